/**
 * The gateway under attack, against the real Kafka and Postgres: amplification by garbage,
 * slow-loris, connection caps, MN enumeration and password guessing. Each test acts from its own
 * loopback source address (127.0.0.x), so the per-source limits of one do not touch another.
 */
import { validateHj212RawV1, validateTelemetryDlqV1 } from '@offsite/contracts';
import { encodePacket, frameSegment } from '@offsite/hj212';
import { until } from '@offsite/testing';
import { Logger212, metricValue, startHarness, type Collected, type Harness } from './harness.js';

const GAS = { mn: '99010201FG00010000000001', pw: 'Hd7q2Lx9' };
/** Used only by the password-guessing test (its MN gets throttled there). */
const WATER = { mn: '99010301WW00030000000001', pw: 'Jx3p6Vb0' };

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    idleTimeoutMs: 20_000,
    maxConnections: 12,
    guard: {
      unauthenticated: { garbageBytes: 4096, badFrames: 8, framesInFlight: 4 },
      authenticated: { garbageBytes: 65_536, badFrames: 64 },
      frameDeadlineMs: 1_000,
      authDeadlineMs: 3_000,
      maxConnectionsPerSource: 4,
      auth: { windowMs: 600_000, failuresPerSource: 5, failuresPerMn: 3, attemptsPerPair: 1 },
      logLinesPerSecond: 20,
    },
  });
});
afterAll(async () => {
  await h?.stop();
});

let qnSeq = 0;
function packet(opts: { mn?: string; pw?: string } = {}): { bytes: Buffer; qn: string } {
  const qn = `20240302${String(1_000_000_000 + qnSeq++).slice(1)}`;
  const bytes = encodePacket({
    qn,
    st: '31',
    cn: '2011',
    pw: opts.pw ?? GAS.pw,
    mn: opts.mn ?? GAS.mn,
    flag: 5,
    cp: 'DataTime=20240302101030;a21026-Rtd=35.2,a21026-Flag=N',
  });
  return { bytes, qn };
}

const qnOf = (frame: string) => /QN=(\d+)/.exec(frame)?.[1];
const cpOf = (frame: string) => /CP=&&(.*)&&/.exec(frame)?.[1];
// A connection is named by its source address and port: connections from different loopback
// addresses may be given the same ephemeral port.
type Source = string;
const sourceOf = (c: Logger212): Source => `${c.socket.localAddress}:${c.socket.localPort}`;
const fromSource = (source: Source) => (c: Collected) =>
  [c.value.origin, c.value.connection].some((o) => {
    const at = o as { remoteAddress?: string; remotePort?: number } | undefined;
    return `${at?.remoteAddress?.replace(/^::ffff:/, '')}:${at?.remotePort}` === source;
  });
const dlqOf = (source: Source) =>
  h.collected.filter((c) => c.topic === h.topics.dlq).filter(fromSource(source));
const rawInOf = (source: Source) =>
  h.collected
    .filter((c) => c.topic === h.topics.raw && c.value.direction === 'in')
    .filter(fromSource(source));
const counted = (records: Collected[]) =>
  records.reduce((n, r) => n + ((r.value.count as number | undefined) ?? 1), 0);
const idle = () =>
  until(() => h.gateway.connections === 0 && h.gateway.pending === 0, 10_000, 'gateway idle');
const closedFor = (event: string) => metricValue(h.registry, 'offsite_hj212_connections_total', { event });
const dlqTotal = (reason?: string) =>
  metricValue(h.registry, 'offsite_hj212_dlq_total', reason === undefined ? {} : { reason });
const reasonOf = (d: Collected) => (d.value.reason as { code: string }).code;

describe('hj212-gateway under attack (real Kafka and Postgres)', () => {
  afterEach(idle);

  it('keeps a 64 KiB write of "##0001" as one counted DLQ record, closes that connection, and still answers a valid logger', async () => {
    const flood = Buffer.from('##0001'.repeat(Math.ceil(65_536 / 6)).slice(0, 65_536));
    const attacker = await Logger212.connect(h.port, '127.0.0.10');
    const port = sourceOf(attacker);
    const logger = await Logger212.connect(h.port, '127.0.0.11');
    const closedBefore = await closedFor('bad-frame-budget');
    attacker.send(flood);
    const p = packet();
    logger.send(p.bytes);
    const [reply] = await logger.waitFrames(1);
    expect(qnOf(reply!)).toBe(p.qn);
    expect(reply).toContain('CN=9014');
    await attacker.waitClosed();
    logger.end();
    expect(await closedFor('bad-frame-budget')).toBe(closedBefore + 1);

    await until(() => dlqOf(port).length >= 1 && rawInOf(port).length >= 1, 10_000, 'the counted record');
    await idle();
    const dlq = dlqOf(port);
    expect(dlq).toHaveLength(1);
    const [d] = dlq;
    expect(validateTelemetryDlqV1(d!.value).ok).toBe(true);
    expect(d!.value.reason).toMatchObject({ code: 'hj212.garbage' });
    expect(String((d!.value.reason as { message: string }).message)).toContain('bad-frame-budget');
    // Everything read from that connection is kept, in order, and counted: one piece per "##0001".
    const kept = Buffer.from(String(d!.value.raw), 'base64');
    expect(kept.length).toBeGreaterThan(9 * 6);
    expect(kept.equals(flood.subarray(0, kept.length))).toBe(true);
    // A trailing incomplete "##00" joins the piece before it.
    expect(d!.value.count).toBeGreaterThanOrEqual(Math.floor(kept.length / 6) - 1);
    expect(d!.value.count).toBeLessThanOrEqual(Math.ceil(kept.length / 6));
    const raw = rawInOf(port);
    expect(raw).toHaveLength(1);
    expect(validateHj212RawV1(raw[0]!.value).ok).toBe(true);
    expect(Buffer.from(String(raw[0]!.value.raw), 'base64').equals(kept)).toBe(true);
    expect(await metricValue(h.registry, 'offsite_hj212_garbage_bytes_total')).toBeGreaterThanOrEqual(
      kept.length,
    );
  });

  it('closes an unauthenticated connection flooding well-framed bad frames after its budget; the rest is one counted record', async () => {
    // 12-byte frames with an empty segment and a wrong CRC: each decodes to an error, none has a QN or MN.
    const one = Buffer.from('##0000FFFF\r\n');
    const frames = 5_000;
    const flood = Buffer.concat(Array.from({ length: frames }, () => one));
    const attacker = await Logger212.connect(h.port, '127.0.0.12');
    const port = sourceOf(attacker);
    const before = await closedFor('bad-frame-budget');
    const dlqBefore = await dlqTotal();
    attacker.send(flood);
    await attacker.waitClosed();
    expect(await closedFor('bad-frame-budget')).toBe(before + 1);
    await idle();
    // Every DLQ record the gateway counted (this connection is the only sender) reaches the topic,
    // each with its raw record.
    const written = (await dlqTotal()) - dlqBefore;
    await until(
      () => dlqOf(port).length === written && rawInOf(port).length === written,
      10_000,
      `${written} DLQ and raw records`,
    );
    const dlq = dlqOf(port);
    expect(dlq).toHaveLength(written);
    expect(rawInOf(port)).toHaveLength(written);
    // At most the budget plus the frames in flight were handled one by one; the rest is one record.
    expect(dlq.length).toBeLessThanOrEqual(8 + 1 + 4 + 1);
    const aggregate = dlq.filter((d) => d.value.count !== undefined);
    expect(aggregate).toHaveLength(1);
    const keptBytes = rawInOf(port).reduce(
      (n, r) => n + Buffer.from(String(r.value.raw), 'base64').length,
      0,
    );
    expect(keptBytes % one.length).toBe(0);
    expect(counted(dlq)).toBe(keptBytes / one.length);
    for (const d of dlq) expect(validateTelemetryDlqV1(d.value).ok).toBe(true);
  });

  it('closes a connection that trickles a frame slower than the frame deadline and keeps the partial frame', async () => {
    const slow = await Logger212.connect(h.port, '127.0.0.13');
    const port = sourceOf(slow);
    const before = await closedFor('frame-deadline');
    const partial = '##0100QN=20240302101030000;ST=31;CN=2011;';
    let sent = '';
    for (const ch of partial) {
      if (slow.closed) break;
      slow.send(ch);
      sent += ch;
      await new Promise((r) => setTimeout(r, 100));
    }
    await slow.waitClosed();
    expect(await closedFor('frame-deadline')).toBe(before + 1);
    await until(() => dlqOf(port).length >= 1, 10_000, 'the partial frame in the DLQ');
    const d = dlqOf(port)[0]!;
    // The last byte may have crossed the close.
    expect(sent.startsWith(String(d.value.rawText))).toBe(true);
    expect(String(d.value.rawText).length).toBeGreaterThanOrEqual(6);
    expect((d.value.reason as { message: string }).message).toContain('frame-deadline');
  });

  it('refuses connections beyond the per-source cap and beyond the total cap, and counts both', async () => {
    const perSourceBefore = await closedFor('rejected-per-source');
    const totalBefore = await closedFor('rejected-total-cap');
    const a = await Promise.all(Array.from({ length: 4 }, () => Logger212.connect(h.port, '127.0.0.14')));
    await until(() => h.gateway.connections === 4, 5_000, '4 connections');
    const fifth = await Logger212.connect(h.port, '127.0.0.14');
    await fifth.waitClosed();
    expect(await closedFor('rejected-per-source')).toBe(perSourceBefore + 1);
    // The four are served.
    const p = packet();
    a[3]!.send(p.bytes);
    expect(qnOf((await a[3]!.waitFrames(1))[0]!)).toBe(p.qn);

    // Total cap 12: 4 + 4 + 4 from three sources fill it; the next source is refused.
    const b = await Promise.all(Array.from({ length: 4 }, () => Logger212.connect(h.port, '127.0.0.15')));
    const c = await Promise.all(Array.from({ length: 4 }, () => Logger212.connect(h.port, '127.0.0.16')));
    await until(() => h.gateway.connections === 12, 5_000, '12 connections');
    const over = await Logger212.connect(h.port, '127.0.0.17');
    await over.waitClosed();
    await until(
      async () => (await closedFor('rejected-total-cap')) === totalBefore + 1,
      5_000,
      'drop counted',
    );
    for (const x of [...a, ...b, ...c]) x.end();
    await until(() => h.gateway.connections === 0, 5_000, 'all closed');
    // Room again once they are gone.
    const again = await Logger212.connect(h.port, '127.0.0.14');
    const q = packet();
    again.send(q.bytes);
    expect(qnOf((await again.waitFrames(1))[0]!)).toBe(q.qn);
    again.end();
  });

  it('stops answering a source that enumerates MNs through the QnRtn codes, on new connections too', async () => {
    const throttledBefore = await dlqTotal('hj212.auth-throttled-source');
    const prober = await Logger212.connect(h.port, '127.0.0.20');
    const port = sourceOf(prober);
    // Five failures are answered (unknown MNs: 4, a known MN with a wrong PW: 3)...
    const probes = [
      packet({ mn: '99999999FG00000000000001' }),
      packet({ mn: '99999999FG00000000000002' }),
      packet({ mn: GAS.mn, pw: 'guess-1' }),
      packet({ mn: '99999999FG00000000000003' }),
      packet({ mn: '99999999FG00000000000004' }),
    ];
    for (const [i, pr] of probes.entries()) {
      prober.send(pr.bytes);
      const frames = await prober.waitFrames(i + 1);
      expect(qnOf(frames[i]!)).toBe(pr.qn);
    }
    expect(prober.frames.map(cpOf)).toEqual(['QnRtn=4', 'QnRtn=4', 'QnRtn=3', 'QnRtn=4', 'QnRtn=4']);
    // ...the sixth is not: no reply, the connection closed, the frame kept in the DLQ.
    const sixth = packet({ mn: '99999999FG00000000000005' });
    prober.send(sixth.bytes);
    await prober.waitClosed();
    expect(prober.frames).toHaveLength(5);
    await until(
      () => dlqOf(port).some((d) => reasonOf(d) === 'hj212.auth-throttled-source'),
      10_000,
      'throttled frame in the DLQ',
    );
    expect(await dlqTotal('hj212.auth-throttled-source')).toBe(throttledBefore + 1);
    // A new connection from that source is accepted, but its probe is not answered either.
    const again = await Logger212.connect(h.port, '127.0.0.20');
    again.send(packet({ mn: '99999999FG00000000000006' }).bytes);
    await again.waitClosed();
    expect(again.frames).toHaveLength(0);
    expect(await dlqTotal('hj212.auth-throttled-source')).toBe(throttledBefore + 2);
    // Another source is served.
    const other = await Logger212.connect(h.port, '127.0.0.21');
    const ok = packet();
    other.send(ok.bytes);
    expect(cpOf((await other.waitFrames(1))[0]!)).toBe('');
    other.end();
  });

  it('slows wrong-PW guessing for one MN to one attempt per new source, while the right PW is answered from any address', async () => {
    const throttledBefore = await dlqTotal('hj212.auth-throttled-mn');
    // The real logger authenticates from its usual address.
    const real = await Logger212.connect(h.port, '127.0.0.30');
    const first = packet({ mn: WATER.mn, pw: WATER.pw });
    real.send(first.bytes);
    expect((await real.waitFrames(1))[0]).toContain('CN=9014');
    // Three wrong PWs from three sources are answered with QnRtn=3: the MN is over its limit.
    for (const from of ['127.0.0.31', '127.0.0.32', '127.0.0.33']) {
      const g = await Logger212.connect(h.port, from);
      g.send(packet({ mn: WATER.mn, pw: `guess-${from}` }).bytes);
      expect(cpOf((await g.waitFrames(1))[0]!)).toBe('QnRtn=3');
      g.end();
    }
    // A new source gets one attempt (its PW checked), then none, even with the right PW.
    const guesser = await Logger212.connect(h.port, '127.0.0.34');
    guesser.send(packet({ mn: WATER.mn, pw: 'guess-34' }).bytes);
    expect(cpOf((await guesser.waitFrames(1))[0]!)).toBe('QnRtn=3');
    guesser.end();
    const again = await Logger212.connect(h.port, '127.0.0.34');
    const port = sourceOf(again);
    again.send(packet({ mn: WATER.mn, pw: WATER.pw }).bytes);
    await again.waitClosed();
    expect(again.frames).toHaveLength(0);
    await until(
      () => dlqOf(port).some((d) => reasonOf(d) === 'hj212.auth-throttled-mn'),
      10_000,
      'throttled guess in the DLQ',
    );
    // The real logger after an address change (a source this gateway never saw it at) is answered.
    const moved = await Logger212.connect(h.port, '127.0.0.35');
    const fromNew = packet({ mn: WATER.mn, pw: WATER.pw });
    moved.send(fromNew.bytes);
    const [movedReply] = await moved.waitFrames(1);
    expect(qnOf(movedReply!)).toBe(fromNew.qn);
    expect(movedReply).toContain('CN=9014');
    // ...and keeps being answered there, like on its old connection and address.
    const second = packet({ mn: WATER.mn, pw: WATER.pw });
    moved.send(second.bytes);
    expect(qnOf((await moved.waitFrames(2))[1]!)).toBe(second.qn);
    moved.end();
    const next = packet({ mn: WATER.mn, pw: WATER.pw });
    real.send(next.bytes);
    expect(qnOf((await real.waitFrames(2))[1]!)).toBe(next.qn);
    real.end();
    const reconnected = await Logger212.connect(h.port, '127.0.0.30');
    const third = packet({ mn: WATER.mn, pw: WATER.pw });
    reconnected.send(third.bytes);
    expect((await reconnected.waitFrames(1))[0]).toContain('CN=9014');
    reconnected.end();
    expect(await dlqTotal('hj212.auth-throttled-mn')).toBe(throttledBefore + 1);
  });

  it('keeps serving loggers that authenticated from a source while another connection from it exhausts the failure limit', async () => {
    const nat = '127.0.0.50';
    const logger = await Logger212.connect(h.port, nat);
    const first = packet();
    logger.send(first.bytes);
    expect((await logger.waitFrames(1))[0]).toContain('CN=9014');
    // A sibling behind the same address probes unknown MNs until it is throttled and closed.
    const prober = await Logger212.connect(h.port, nat);
    for (let i = 0; i < 5; i++) {
      prober.send(packet({ mn: `99999999FG0000000000005${i}` }).bytes);
      await prober.waitFrames(i + 1);
    }
    prober.send(packet({ mn: '99999999FG00000000000059' }).bytes);
    await prober.waitClosed();
    expect(prober.frames).toHaveLength(5);
    // The authenticated connection is still served...
    const next = packet();
    logger.send(next.bytes);
    expect(qnOf((await logger.waitFrames(2))[1]!)).toBe(next.qn);
    logger.end();
    // ...and so is a new connection of that logger from that address.
    const reconnected = await Logger212.connect(h.port, nat);
    const third = packet();
    reconnected.send(third.bytes);
    const [reply] = await reconnected.waitFrames(1);
    expect(qnOf(reply!)).toBe(third.qn);
    expect(reply).toContain('CN=9014');
    reconnected.end();
  });

  it('closes a connection that does not authenticate within the deadline, not one that did', async () => {
    const before = await closedFor('auth-deadline');
    const silent = await Logger212.connect(h.port, '127.0.0.60');
    const logger = await Logger212.connect(h.port, '127.0.0.61');
    const p = packet();
    logger.send(p.bytes);
    expect(qnOf((await logger.waitFrames(1))[0]!)).toBe(p.qn);
    await silent.waitClosed();
    expect(await closedFor('auth-deadline')).toBe(before + 1);
    expect(logger.closed).toBe(false);
    const q = packet();
    logger.send(q.bytes);
    expect(qnOf((await logger.waitFrames(2))[1]!)).toBe(q.qn);
    expect(await closedFor('auth-deadline')).toBe(before + 1);
    logger.end();
  });

  it('counts connections closed for their garbage budget as failed authentications of their source', async () => {
    const throttledBefore = await dlqTotal('hj212.auth-throttled-source');
    // failuresPerSource is 5: five connections that each blow their garbage budget...
    for (let i = 0; i < 5; i++) {
      const g = await Logger212.connect(h.port, '127.0.0.70');
      g.send(Buffer.alloc(5000, 0x41));
      await g.waitClosed();
    }
    // ...and the source's next frame with an MN it never authenticated as is not answered.
    const probe = await Logger212.connect(h.port, '127.0.0.70');
    probe.send(packet({ mn: '99999999FG00000000000070' }).bytes);
    await probe.waitClosed();
    expect(probe.frames).toHaveLength(0);
    await until(
      async () => (await dlqTotal('hj212.auth-throttled-source')) === throttledBefore + 1,
      10_000,
      'the throttled frame counted',
    );
  });

  it('keeps no device password in clear in any raw or DLQ record', async () => {
    await idle();
    const records = h.collected.filter((c) => c.topic === h.topics.raw || c.topic === h.topics.dlq);
    expect(records.length).toBeGreaterThan(10);
    for (const r of records) {
      const text = Buffer.from(String(r.value.raw), 'base64').toString('latin1');
      for (const pw of [GAS.pw, WATER.pw, 'guess-1']) expect(text).not.toContain(pw);
      expect(JSON.stringify(r.value)).not.toContain(GAS.pw);
    }
  });

  it('answers a frame whose MN holds "=", ";" or spaces with what can be answered, and keeps it in the DLQ', async () => {
    const internalBefore = await metricValue(h.registry, 'offsite_hj212_packets_total', {
      outcome: 'internal-error',
    });
    const c = await Logger212.connect(h.port, '127.0.0.40');
    const port = sourceOf(c);
    // A frame built by hand: the encoder refuses such an MN, a logger's firmware may not.
    const qn = '20240302101030999';
    const frame = frameSegment(
      `QN=${qn};ST=31;CN=2011;PW=${GAS.pw};MN=99 01=0201\u0001FG;Flag=5;CP=&&DataTime=20240302101030;a21026-Rtd=1.0&&`,
    );
    c.send(frame);
    const [reply] = await c.waitFrames(1);
    expect(qnOf(reply!)).toBe(qn);
    expect(reply).toContain('CN=9011');
    await until(() => dlqOf(port).length >= 1, 10_000, 'dlq');
    expect(await metricValue(h.registry, 'offsite_hj212_packets_total', { outcome: 'internal-error' })).toBe(
      internalBefore,
    );
    c.end();
  });
});
