import { readFileSync } from 'node:fs';
import { validateHj212RawV1, validateTelemetryDlqV1, validateTelemetryV1 } from '@offsite/contracts';
import { createSm4EcbCipher, encodePacket } from '@offsite/hj212';
import { upsertDevice } from '@offsite/store';
import { until } from '@offsite/testing';
import { Logger212, startHarness, type Collected, type Harness } from './harness.js';

// HJ 212-2017 Table C.17 and the standard's own 9014 answer to it (shared/fixtures/hj212/standard-examples.txt).
const C17 =
  '##0325QN=20160801090000001;ST=32;CN=2061;PW=123456;MN=010000A8900016F000169DC0;Flag=5;CP=&&DataTime=20160801080000;w00000-Cou=63.0,w00000-Min=16.4,w00000-Avg=17.5,w00000-Max=20.1,w00000-Flag=N;w01001-Min=7.1,w01001-Avg=7.5,w01001-Max=7.8,w01001-Flag=N;w01018-Cou=63.0,w01018-Min=40.1,w01018-Avg=40.1,w01018-Max=40.1,w01018-Flag=N&&B7C1\r\n';
const C17_ACK =
  '##0087QN=20160801090000001;ST=91;CN=9014;PW=123456;MN=010000A8900016F000169DC0;Flag=4;CP=&&&&FF01\r\n';

const GAS = { mn: '99010201FG00010000000001', pw: 'Hd7q2Lx9' };
const SM4 = { mn: '99010203FG00050000000001', pw: 'Lv2w9Ez4', key: '0123456789abcdeffedcba9876543210' };

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ idleTimeoutMs: 3_000 });
  await upsertDevice(h.pool, 'out-0003-w1', {
    mn: '010000A8900016F000169DC0',
    password: '123456',
    protocolVersion: 2017,
    realtimeIntervalS: 30,
    minuteIntervalS: 600,
    enabled: true,
  });
});
afterAll(async () => {
  await h?.stop();
});

let qnSeq = 0;
function qn(): string {
  return `20240301${String(1_000_000_000 + qnSeq++).slice(1)}`;
}

function packet(
  opts: { cn?: string; pw?: string; mn?: string; cp?: string; flag?: number; q?: string } = {},
): { bytes: Buffer; qn: string } {
  const q = opts.q ?? qn();
  const bytes = encodePacket({
    qn: q,
    st: '31',
    cn: opts.cn ?? '2011',
    pw: opts.pw ?? GAS.pw,
    mn: opts.mn ?? GAS.mn,
    flag: opts.flag ?? 5,
    cp: opts.cp ?? 'DataTime=20240301101030;a21026-Rtd=35.2,a21026-Flag=N;a19001-Rtd=8.1,a19001-Flag=N',
  });
  return { bytes, qn: q };
}

const on = (topic: string) => (c: Collected) => c.topic === topic;
const raws = () => h.collected.filter(on(h.topics.raw));
const telemetry = () => h.collected.filter(on(h.topics.telemetry));
const dlq = () => h.collected.filter(on(h.topics.dlq));
const qnOf = (frame: string) => /QN=(\d+)/.exec(frame)?.[1];
const cpOf = (frame: string) => /CP=&&(.*)&&/.exec(frame)?.[1];

describe('hj212-gateway against real Kafka and Postgres', () => {
  it('archives and normalises a valid packet, then answers the byte-exact 9014', async () => {
    const c = await Logger212.connect(h.port);
    const sentAt = Date.now();
    c.send(C17);
    const [reply] = await c.waitFrames(1);
    const repliedAt = Date.now();
    expect(reply).toBe(C17_ACK);
    // Kafka acknowledged before the reply, so the records are already there to read.
    await until(
      () => telemetry().some((t) => t.value.deviceId === '010000A8900016F000169DC0'),
      10_000,
      'telemetry',
    );
    const t = telemetry().find((x) => x.value.deviceId === '010000A8900016F000169DC0')!;
    expect(t.key).toBe('ent-0003');
    expect(validateTelemetryV1(t.value).ok).toBe(true);
    expect(t.value).toMatchObject({
      interval: 'hour',
      dataTime: '2016-08-01T00:00:00.000Z',
      siteId: 'out-0003-w1',
    });
    // Kafka timestamp = receive time, not the 2016 DataTime: the broker's time retention would
    // otherwise delete the record at its next check, before a lagging consumer read it.
    expect(t.timestamp).toBeGreaterThanOrEqual(sentAt);
    expect(t.timestamp).toBeLessThanOrEqual(repliedAt);
    await until(
      () => raws().filter((r) => r.value.mn === '010000A8900016F000169DC0').length >= 2,
      10_000,
      'raw in+out',
    );
    const mine = raws().filter((r) => r.value.mn === '010000A8900016F000169DC0');
    const inRec = mine.find((r) => r.value.direction === 'in')!;
    const outRec = mine.find((r) => r.value.direction === 'out')!;
    // Exact bytes but for the PW, masked byte for byte (the CRC stays the logger's own).
    expect(Buffer.from(String(inRec.value.raw), 'base64').toString()).toBe(
      C17.replace('PW=123456', 'PW=******'),
    );
    expect(Buffer.from(String(outRec.value.raw), 'base64').toString()).toBe(
      C17_ACK.replace('PW=123456', 'PW=******'),
    );
    expect(JSON.stringify(mine.map((r) => r.value))).not.toContain('123456');
    expect(t.value.rawRef).toBe(inRec.value.id);
    for (const r of mine) expect(validateHj212RawV1(r.value).ok).toBe(true);
    c.end();
  });

  it('does not reply while Kafka does not acknowledge, and replies once it does', async () => {
    const c = await Logger212.connect(h.port);
    h.gate.close();
    const p = packet();
    c.send(p.bytes);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(c.frames).toHaveLength(0);
    expect(telemetry().some((t) => (t.value.hj212 as { qn?: string }).qn === p.qn)).toBe(false);
    h.gate.open();
    const [reply] = await c.waitFrames(1);
    expect(qnOf(reply!)).toBe(p.qn);
    expect(reply).toContain('CN=9014');
    await until(
      () => telemetry().some((t) => (t.value.hj212 as { qn?: string }).qn === p.qn),
      10_000,
      'telemetry after reopen',
    );
    c.end();
  });

  it('sends no reply for a packet whose produce failed; the resent packet is answered', async () => {
    const c = await Logger212.connect(h.port);
    h.gate.failNext = 1;
    const p = packet();
    c.send(p.bytes);
    await new Promise((r) => setTimeout(r, 800));
    expect(c.frames).toHaveLength(0);
    c.send(p.bytes);
    const [reply] = await c.waitFrames(1);
    expect(qnOf(reply!)).toBe(p.qn);
    c.end();
  });

  it('answers a wrong PW with QnRtn=3, archives it and sends it to the DLQ, never to telemetry', async () => {
    const c = await Logger212.connect(h.port);
    const p = packet({ pw: 'wrong-pw' });
    c.send(p.bytes);
    const [reply] = await c.waitFrames(1);
    expect(reply).toContain('CN=9011');
    expect(cpOf(reply!)).toBe('QnRtn=3');
    expect(qnOf(reply!)).toBe(p.qn);
    await until(
      () => dlq().some((d) => d.value.reason && (d.value.rawText as string)?.includes(p.qn)),
      10_000,
      'dlq',
    );
    const d = dlq().find((x) => (x.value.rawText as string)?.includes(p.qn))!;
    expect(d.value.reason).toMatchObject({ code: 'hj212.auth-failed' });
    expect(validateTelemetryDlqV1(d.value).ok).toBe(true);
    const masked = p.bytes.toString().replace('PW=wrong-pw', 'PW=********');
    const archived = () =>
      raws().some(
        (r) => r.value.direction === 'in' && Buffer.from(String(r.value.raw), 'base64').toString() === masked,
      );
    expect(d.value.rawText).toBe(masked);
    await until(archived, 10_000, 'raw archive of the rejected packet');
    expect(telemetry().some((t) => (t.value.hj212 as { qn?: string }).qn === p.qn)).toBe(false);
    c.end();
  });

  it('answers an unknown MN with QnRtn=4 and a CRC error with QnRtn=9', async () => {
    const c = await Logger212.connect(h.port);
    c.send(packet({ mn: '99999999FG00000000000001' }).bytes);
    const bad = packet();
    const text = bad.bytes.toString();
    const crc = text.slice(-6, -2);
    c.send(text.slice(0, -6) + (crc === '0000' ? '0001' : '0000') + '\r\n');
    const [r1, r2] = await c.waitFrames(2);
    expect(cpOf(r1!)).toBe('QnRtn=4');
    expect(cpOf(r2!)).toBe('QnRtn=9');
    expect(qnOf(r2!)).toBe(bad.qn);
    // Both are in the DLQ (their produce order is not their arrival order; their replies' order is).
    const has = (code: string) => dlq().some((d) => (d.value.reason as { code: string }).code === code);
    await until(
      () => has('hj212.crc-mismatch') && has('registry.unknown-device'),
      10_000,
      'crc and unknown-MN in the DLQ',
    );
    c.end();
  });

  it('sends garbage bytes to the DLQ with a reason and keeps the connection', async () => {
    const c = await Logger212.connect(h.port);
    c.send('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const p = packet();
    c.send(p.bytes);
    const [reply] = await c.waitFrames(1);
    expect(qnOf(reply!)).toBe(p.qn);
    expect(c.closed).toBe(false);
    await until(
      () => dlq().some((d) => (d.value.rawText as string | undefined)?.startsWith('GET /')),
      10_000,
      'garbage dlq',
    );
    const d = dlq().find((x) => (x.value.rawText as string | undefined)?.startsWith('GET /'))!;
    expect(d.value.reason).toMatchObject({ code: 'hj212.garbage' });
    c.end();
  });

  it('reassembles a split packet into one reading and acknowledges each part', async () => {
    const c = await Logger212.connect(h.port);
    const q = qn();
    const part = (pno: number, cp: string) =>
      encodePacket({ qn: q, st: '31', cn: '2051', pw: GAS.pw, mn: GAS.mn, flag: 7, pnum: 2, pno, cp });
    c.send(part(1, 'DataTime=20240301100000;a21026-Avg=31.5,a21026-Flag=N'));
    c.send(part(2, 'DataTime=20240301100000;a21002-Avg=80.2,a21002-Flag=N'));
    const replies = await c.waitFrames(2);
    expect(replies.every((r) => r.includes('CN=9014') && qnOf(r) === q)).toBe(true);
    await until(
      () => telemetry().some((t) => (t.value.hj212 as { qn?: string }).qn === q),
      10_000,
      'split telemetry',
    );
    const events = telemetry().filter((t) => (t.value.hj212 as { qn?: string }).qn === q);
    expect(events).toHaveLength(1);
    expect((events[0]!.value.measurements as { factor: string }[]).map((m) => m.factor)).toEqual([
      'a21026',
      'a21002',
    ]);
    expect(events[0]!.value).toMatchObject({ interval: 'minute', periodSeconds: 600 });
    c.end();
  });

  it('decrypts the CP of an HJ 212-2025 device with its SM4 key from the registry', async () => {
    const c = await Logger212.connect(h.port);
    const q = qn();
    const frame = encodePacket(
      {
        qn: q,
        st: '31',
        cn: '2011',
        pw: SM4.pw,
        mn: SM4.mn,
        flag: 9,
        cp: 'DataTime=20240301101030;a34013-Rtd=4.2,a34013-Flag=N',
      },
      { cipher: createSm4EcbCipher(SM4.key) },
    );
    expect(frame.toString()).not.toContain('a34013');
    c.send(frame);
    const [reply] = await c.waitFrames(1);
    expect(reply).toContain('CN=9014');
    await until(
      () => telemetry().some((t) => (t.value.hj212 as { qn?: string }).qn === q),
      10_000,
      'sm4 telemetry',
    );
    const t = telemetry().find((x) => (x.value.hj212 as { qn?: string }).qn === q)!;
    expect(t.value.measurements).toEqual([
      { factor: 'a34013', stat: 'Rtd', value: 4.2, unit: 'mg/m3', flag: 'N' },
    ]);
    expect(t.value.hj212).toMatchObject({ version: '2025' });
    c.end();
  });

  it('turns every quirk fixture into telemetry or a DLQ record with a reason, replying where it can', async () => {
    const text = readFileSync(
      new URL('../../../packages/hj212/test/fixtures/field-quirks.txt', import.meta.url),
      'latin1',
    );
    const lines = text.split('\n').filter((l) => l.startsWith('##'));
    expect(lines.length).toBeGreaterThanOrEqual(7);
    const results = await Promise.all(
      lines.map(async (line) => {
        const c = await Logger212.connect(h.port);
        // Named by address and port: an earlier test's connection from another address may have had this port.
        const source = `${c.socket.localAddress}:${c.socket.localPort}`;
        const at = (o: unknown) => {
          const { remoteAddress, remotePort } = (o ?? {}) as { remoteAddress?: string; remotePort?: number };
          return `${remoteAddress?.replace(/^::ffff:/, '')}:${remotePort}`;
        };
        c.send(Buffer.from(`${line}\r\n`, 'latin1'));
        const fromMe = (x: Collected) => at(x.value.origin) === source;
        // Telemetry points at its raw record, which names the connection.
        const mine = (x: Collected) =>
          raws().some((r) => r.value.id === x.value.rawRef && at(r.value.connection) === source);
        await until(() => telemetry().some(mine) || dlq().some(fromMe), 10_000, `outcome of ${line}`);
        // A reply, when one can be built, was written before the records could be read.
        await new Promise((r) => setTimeout(r, 100));
        c.end();
        return { line, telemetry: telemetry().some(mine), dlq: dlq().find(fromMe), replies: c.frames };
      }),
    );
    const [flag3, flag7, comma, modbus, mnSpace, qnControl, neither] = results;
    for (const r of [flag3!, flag7!, comma!, modbus!]) {
      expect(r.telemetry).toBe(true);
      expect(r.replies).toHaveLength(1);
      expect(r.replies[0]).toContain('CN=9014');
    }
    expect(flag3!.replies[0]).toContain(';Flag=0;');
    expect(mnSpace!.dlq?.value.reason).toMatchObject({ code: 'registry.unknown-device' });
    expect(mnSpace!.replies[0]).toMatch(
      /^##\d{4}QN=20200922110000005;ST=91;CN=9011;PW=123456;Flag=4;CP=&&QnRtn=4&&/,
    );
    expect(qnControl!.telemetry).toBe(true);
    expect(qnControl!.replies[0]).toMatch(
      /^##\d{4}ST=91;CN=9014;PW=123456;MN=010000A8900016F000169DC0;Flag=4;/,
    );
    expect(neither!.dlq?.value.reason).toMatchObject({ code: 'registry.unknown-device' });
    expect(neither!.replies).toHaveLength(0);
  });

  it('answers a 9015 heartbeat', async () => {
    const c = await Logger212.connect(h.port);
    const p = packet({ cn: '9015', flag: 8, cp: 'DataTime=20240301101030' });
    c.send(p.bytes);
    const [reply] = await c.waitFrames(1);
    expect(reply).toContain('CN=9014');
    expect(qnOf(reply!)).toBe(p.qn);
    c.end();
  });

  it('closes a connection that stays idle', async () => {
    const c = await Logger212.connect(h.port);
    const started = Date.now();
    await until(() => c.closed, 10_000, 'idle close');
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_500);
  });

  it('serves 1,000 concurrent logger connections, each getting every reply', async () => {
    const loggers = 1000;
    const perLogger = 3;
    const before = telemetry().length;
    const clients = await Promise.all(Array.from({ length: loggers }, () => Logger212.connect(h.port)));
    await until(() => h.gateway.connections >= loggers, 10_000, 'all connected');
    const started = Date.now();
    await Promise.all(
      clients.map(async (c, i) => {
        for (let k = 0; k < perLogger; k++) {
          const minute = String(k).padStart(2, '0');
          const second = String(i % 60).padStart(2, '0');
          const p = packet({
            cp: `DataTime=202403021${i % 10}${minute}${second};a21026-Rtd=${i}.${k},a21026-Flag=N`,
          });
          c.send(p.bytes);
          const frames = await c.waitFrames(k + 1, 60_000);
          expect(qnOf(frames[k]!)).toBe(p.qn);
        }
      }),
    );
    const elapsed = Date.now() - started;
    await until(() => telemetry().length - before >= loggers * perLogger, 30_000, 'all telemetry consumed');
    for (const c of clients) c.end();
    // Printed for the README; not asserted (a test is not a benchmark).
    process.stdout.write(`1000 loggers x ${perLogger} packets answered in ${elapsed} ms\n`);
  });
});
