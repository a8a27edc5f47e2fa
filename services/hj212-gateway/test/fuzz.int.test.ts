/**
 * A bounded, seeded fuzz of the running gateway against the real Kafka and Postgres: 20
 * authenticated connections each send 50 mutated frames (byte flips, cuts, doubled slices, stray
 * `##dddd` starts, header values with `=`, `;`, spaces and control bytes under a correct CRC,
 * wrong lengths, random bytes), then close. Every byte read must be kept in `hj212.raw.v1` (nothing
 * dropped), every record must match its schema, no frame may end as an internal error, and a valid
 * logger must still be answered. `FUZZ_SEED=n` replays one run; the seed is printed.
 */
import { validateHj212RawV1, validateTelemetryDlqV1 } from '@offsite/contracts';
import { encodePacket, frameSegment } from '@offsite/hj212';
import { seededRandom, until } from '@offsite/testing';
import { Logger212, metricValue, startHarness, type Harness } from './harness.js';

const SEED = Number(process.env.FUZZ_SEED ?? 212_2017);
const CONNECTIONS = 20;
const FRAMES_PER_CONNECTION = 50;
const GAS = { mn: '99010201FG00010000000001', pw: 'Hd7q2Lx9' };

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    idleTimeoutMs: 20_000,
    // Budgets and throttles out of the way: this test is about what every byte becomes.
    guard: {
      authenticated: { garbageBytes: 1 << 20, badFrames: 100_000 },
      auth: { windowMs: 600_000, failuresPerSource: 1_000_000, failuresPerMn: 1_000_000 },
    },
  });
});
afterAll(async () => {
  await h?.stop();
});

describe('hj212-gateway fuzz (bounded, seeded)', () => {
  it(`keeps every byte of ${CONNECTIONS * FRAMES_PER_CONNECTION} mutated frames and never fails internally (seed ${SEED})`, async () => {
    process.stdout.write(`gateway fuzz seed ${SEED} (FUZZ_SEED=${SEED} to replay)\n`);
    const rnd = seededRandom(SEED);
    const int = (n: number) => Math.floor(rnd() * n);
    const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
    let qn = 0;
    const segment = (over: { qn?: string; mn?: string; pw?: string; cn?: string } = {}) =>
      `QN=${over.qn ?? `20240303${String(1_000_000_000 + qn++).slice(1)}`};ST=31;CN=${over.cn ?? pick(['2011', '2051', '2061', '9015', '1013', '3020'])};` +
      `PW=${over.pw ?? GAS.pw};MN=${over.mn ?? GAS.mn};Flag=${pick(['5', '4', '1', '3', '7', '9', 'x'])};` +
      `CP=&&DataTime=20240303101030;a21026-Rtd=${int(1000) / 10},a21026-Flag=N&&`;
    const nasty = ['=', ';', ' ', '\u0001', ',', '&', '\r\n', '##', '中'];
    const mutate = (): Buffer => {
      const base = frameSegment(segment());
      switch (int(9)) {
        case 0: {
          const b = Buffer.from(base);
          for (let k = 0, n = 1 + int(3); k < n; k++) b[int(b.length)] = int(256);
          return b;
        }
        case 1:
          return base.subarray(0, int(base.length));
        case 2: {
          const i = int(base.length);
          return Buffer.concat([base.subarray(0, i), base.subarray(int(i + 1))]);
        }
        case 3: {
          const i = int(base.length);
          return Buffer.concat([
            base.subarray(0, i),
            Buffer.from(`##${String(int(10_000)).padStart(4, '0')}`),
            base.subarray(i),
          ]);
        }
        case 4: {
          const bad = `${pick(nasty)}${int(100)}${pick(nasty)}`;
          return frameSegment(segment(rnd() < 0.5 ? { mn: `99${bad}01` } : { qn: `2024${bad}` }));
        }
        case 5:
          return Buffer.concat([Buffer.from(`##${String(int(10_000)).padStart(4, '0')}`), base.subarray(6)]);
        case 6:
          return Buffer.from(Array.from({ length: 1 + int(64) }, () => int(256)));
        case 7:
          return frameSegment(
            segment({ mn: pick([GAS.mn, '99999999FG00000000000001', '']), pw: pick([GAS.pw, 'wrong', '']) }),
          );
        default:
          return base;
      }
    };

    // Keyed by source address and port: connections from different loopback addresses may be
    // given the same ephemeral port.
    const sent = new Map<string, number>();
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async (_, i) => {
        const c = await Logger212.connect(h.port, `127.0.1.${i + 1}`);
        const hello = encodePacket({
          qn: `20240303${String(900_000_000 + i)}`,
          st: '31',
          cn: '9015',
          pw: GAS.pw,
          mn: GAS.mn,
          flag: 5,
          cp: 'DataTime=20240303101030',
        });
        c.send(hello);
        await c.waitFrames(1);
        const frames = Array.from({ length: FRAMES_PER_CONNECTION }, mutate);
        // Some in one write, some one by one.
        if (i % 2 === 0) c.send(Buffer.concat(frames));
        else for (const f of frames) c.send(f);
        sent.set(
          `${c.socket.localAddress}:${c.socket.localPort}`,
          hello.length + frames.reduce((n, f) => n + f.length, 0),
        );
        await new Promise<void>((resolve) => c.socket.end(resolve));
        await until(() => c.closed, 20_000, 'connection closed');
      }),
    );
    await until(() => h.gateway.connections === 0 && h.gateway.pending === 0, 30_000, 'gateway idle');

    const kept = () => {
      const bySource = new Map<string, number>();
      for (const r of h.collected) {
        if (r.topic !== h.topics.raw || r.value.direction !== 'in') continue;
        const { remoteAddress, remotePort } = r.value.connection as {
          remoteAddress: string;
          remotePort: number;
        };
        const source = `${remoteAddress.replace(/^::ffff:/, '')}:${remotePort}`;
        bySource.set(source, (bySource.get(source) ?? 0) + Buffer.from(String(r.value.raw), 'base64').length);
      }
      return [...sent].every(([source, n]) => bySource.get(source) === n);
    };
    await until(kept, 30_000, 'every byte sent kept in hj212.raw.v1');

    expect(await metricValue(h.registry, 'offsite_hj212_packets_total', { outcome: 'internal-error' })).toBe(
      0,
    );
    expect(await metricValue(h.registry, 'offsite_hj212_packets_total', { outcome: 'kafka-failed' })).toBe(0);
    const problems = (v: { ok: true } | { ok: false; errors: string[] }) => (v.ok ? [] : v.errors);
    for (const r of h.collected) {
      if (r.topic === h.topics.raw) expect(problems(validateHj212RawV1(r.value))).toEqual([]);
      if (r.topic === h.topics.dlq) expect(problems(validateTelemetryDlqV1(r.value))).toEqual([]);
    }

    const after = await Logger212.connect(h.port, '127.0.2.1');
    const p = encodePacket({
      qn: '20240303101030001',
      st: '31',
      cn: '2011',
      pw: GAS.pw,
      mn: GAS.mn,
      flag: 5,
      cp: 'DataTime=20240303101030;a21026-Rtd=1.5',
    });
    after.send(p);
    expect((await after.waitFrames(1))[0]).toContain('CN=9014');
    after.end();
  }, 120_000);
});
