/**
 * The gateway behind a load balancer speaking the PROXY protocol (real Kafka and Postgres): a trusted
 * proxy's header gives each logger its own address for the per-source limit and the raw records; a
 * header from anyone else is no header (a logger cannot claim another address); a trusted proxy's
 * connection without a valid header is closed and counted.
 */
import { encodePacket } from '@offsite/hj212';
import { until } from '@offsite/testing';
import { Logger212, metricValue, startHarness, type Harness } from './harness.js';

const GAS = { mn: '99010201FG00010000000001', pw: 'Hd7q2Lx9' };
const PROXY = '127.0.0.31';
let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    guard: { maxConnectionsPerSource: 2, trustedProxies: [PROXY], proxyHeaderDeadlineMs: 1_000 },
  });
});
afterAll(async () => {
  await h?.stop();
});

let qnSeq = 0;
function packet(): { bytes: Buffer; qn: string } {
  const qn = `20240303${String(1_000_000_000 + qnSeq++).slice(1)}`;
  const bytes = encodePacket({
    qn,
    st: '31',
    cn: '2011',
    pw: GAS.pw,
    mn: GAS.mn,
    flag: 5,
    cp: 'DataTime=20240303101030;a21026-Rtd=35.2,a21026-Flag=N',
  });
  return { bytes, qn };
}
function v2(address: [number, number, number, number], port: number): Buffer {
  const b = Buffer.alloc(28);
  Buffer.from('0d0a0d0a000d0a515549540a', 'hex').copy(b);
  b[12] = 0x21;
  b[13] = 0x11;
  b.writeUInt16BE(12, 14);
  Buffer.from(address).copy(b, 16);
  Buffer.from([127, 0, 0, 1]).copy(b, 20);
  b.writeUInt16BE(port, 24);
  b.writeUInt16BE(h.port, 26);
  return b;
}
const closedFor = (event: string) => metricValue(h.registry, 'offsite_hj212_connections_total', { event });
const rawConnections = () =>
  h.collected
    .filter((c) => c.topic === h.topics.raw && c.value.direction === 'in')
    .map((c) => c.value.connection as { remoteAddress: string; remotePort: number });
const idle = () =>
  until(() => h.gateway.connections === 0 && h.gateway.pending === 0, 10_000, 'gateway idle');

describe('hj212-gateway behind a PROXY protocol load balancer', () => {
  afterEach(idle);

  it("takes a trusted proxy's header as the logger's address for its records and its per-source limit", async () => {
    const perSourceBefore = await closedFor('rejected-per-source');
    // Header and first frame in one write, as HAProxy may send them.
    const a = await Logger212.connect(h.port, PROXY);
    const p = packet();
    a.send(Buffer.concat([v2([203, 0, 113, 7], 40_001), p.bytes]));
    expect(/QN=(\d+)/.exec((await a.waitFrames(1))[0]!)?.[1]).toBe(p.qn);
    await until(
      () => rawConnections().some((c) => c.remoteAddress === '203.0.113.7'),
      10_000,
      'the raw record',
    );
    expect(rawConnections().find((c) => c.remoteAddress === '203.0.113.7')?.remotePort).toBe(40_001);

    // Cap 2 per source: a second from 203.0.113.7 is served, a third refused; another logger behind
    // the same proxy still gets in (the proxy's own address is nobody's source).
    const b = await Logger212.connect(h.port, PROXY);
    b.send(v2([203, 0, 113, 7], 40_002));
    await until(() => h.gateway.connections === 2, 5_000, 'two connections');
    const c = await Logger212.connect(h.port, PROXY);
    c.send(v2([203, 0, 113, 7], 40_003));
    await c.waitClosed();
    expect(await closedFor('rejected-per-source')).toBe(perSourceBefore + 1);
    const d = await Logger212.connect(h.port, PROXY);
    const q = packet();
    d.send(v2([198, 51, 100, 9], 50_000));
    d.send(q.bytes);
    expect(/QN=(\d+)/.exec((await d.waitFrames(1))[0]!)?.[1]).toBe(q.qn);
    for (const x of [a, b, d]) x.end();
  });

  it('reads no header from an untrusted address: a claimed address is not taken', async () => {
    const l = await Logger212.connect(h.port, '127.0.0.32');
    const p = packet();
    l.send(Buffer.concat([v2([203, 0, 113, 99], 1234), p.bytes]));
    expect(/QN=(\d+)/.exec((await l.waitFrames(1))[0]!)?.[1]).toBe(p.qn);
    await until(
      () => rawConnections().some((c) => c.remoteAddress === '127.0.0.32'),
      10_000,
      'the raw records',
    );
    expect(rawConnections().some((c) => c.remoteAddress === '203.0.113.99')).toBe(false);
    l.end();
  });

  it("closes and counts a trusted proxy's connection without a valid header (malformed, or none in time)", async () => {
    const before = await closedFor('rejected-proxy-header');
    const plain = await Logger212.connect(h.port, PROXY);
    plain.send(packet().bytes);
    await plain.waitClosed();
    expect(plain.frames).toEqual([]);
    const silent = await Logger212.connect(h.port, PROXY);
    await silent.waitClosed();
    expect(await closedFor('rejected-proxy-header')).toBe(before + 2);
  });
});
