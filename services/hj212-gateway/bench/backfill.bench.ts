/**
 * Backfill (补遗) of a 2-hour gap for `--loggers` loggers at once, against the real Kafka and Postgres
 * (the integration harness: own topics and schema, removed at the end; gateway and loggers in this
 * process). The loggers are registered in the harness's schema, connect and authenticate; then one
 * resolved offline deviation per logger is produced to deviation.v1 at once, and each logger answers
 * its 2051 (13 minute readings) and 2061 (3 hourly readings) with 9011, the data and 9012.
 * Meanwhile `--live` other loggers each send a 2011 (Flag=5) every `--live-interval-ms` and time their
 * 9014: the same live load runs for `--baseline-s` before the backfill (the same-run baseline) and
 * during it. Prints requests/s, time until every gap is closed, the live 9014 p50/p99/max of both
 * phases, and os.loadavg().
 *
 *   set -a; . .offsite/env; set +a
 *   flock /tmp/offsite-bench.lock node --import tsx services/hj212-gateway/bench/backfill.bench.ts --loggers 1000
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import {
  dataCp,
  decodePacket,
  encodePacket,
  executionResult,
  ExeRtn,
  formatQn,
  QnRtn,
  requestAck,
  type Packet,
} from '@offsite/hj212';
import { Logger212, metricValue, startHarness } from '../test/harness.js';

const { values: args } = parseArgs({
  options: {
    loggers: { type: 'string', default: '1000' },
    live: { type: 'string', default: '100' },
    'live-interval-ms': { type: 'string', default: '1000' },
    'baseline-s': { type: 'string', default: '20' },
    'per-s': { type: 'string', default: '50' },
  },
});
const LOGGERS = Number(args.loggers);
const LIVE = Number(args.live);
const LIVE_MS = Number(args['live-interval-ms']);
const BASELINE_S = Number(args['baseline-s']);
const PER_S = Number(args['per-s']);
const MIN = 60_000;
const GAP_START = Date.parse('2026-03-05T02:00:00Z');
const GAP_END = GAP_START + 120 * MIN;
const PW = 'Bench1234';
const mnOf = (i: number) => `BENCHBF${String(i).padStart(6, '0')}`;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const line = (name: string, xs: number[]) =>
  `${name}: ${xs.length} replies, p50 ${pct(xs, 50).toFixed(1)} ms, p99 ${pct(xs, 99).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms`;
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

const h = await startHarness({
  // The backfill loggers send nothing between their first upload and the requests.
  idleTimeoutMs: 600_000,
  guard: { maxConnectionsPerSource: LOGGERS + LIVE + 100 },
  maxConnections: LOGGERS + LIVE + 100,
  commands: { timeoutMs: 30_000, perSecond: PER_S, burst: PER_S * 2, pollMs: 500, maxAttempts: 3 },
  intake: {},
});
try {
  // The fleet in the registry: one outlet of the example, LOGGERS + LIVE devices on it.
  const outlet = (await h.pool.query<{ outlet_id: string }>('select outlet_id from devices limit 1')).rows[0]!
    .outlet_id;
  await h.pool.query(
    `insert into devices (mn, outlet_id, password, protocol_version)
     select 'BENCHBF' || lpad(i::text, 6, '0'), $1, $2, 2017 from generate_series(0, $3::int - 1) i`,
    [outlet, PW, LOGGERS + LIVE],
  );

  const upload = (mn: string, cn: string, qn: string, t: number, flag: number) =>
    encodePacket({
      qn,
      st: '31',
      cn,
      pw: PW,
      mn,
      flag,
      cp: dataCp(new Date(t), [{ code: 'a21026', stat: cn === '2011' ? 'Rtd' : 'Avg', value: 35.2 }], {
        a21026: 'N',
      }),
    });

  // Backfill loggers: authenticate, then answer every history request.
  let answered = 0;
  const fleet: Logger212[] = [];
  for (let i = 0; i < LOGGERS; i++) {
    const mn = mnOf(i);
    const c = await Logger212.connect(h.port);
    c.socket.on('data', () => {
      while (c.frames.length > 0) {
        const d = decodePacket(c.frames.shift()!);
        if (!d.ok || (d.packet.cn !== '2051' && d.packet.cn !== '2061')) continue;
        const req: Packet = d.packet;
        const me = { qn: req.qn, pw: PW, mn, flag: 4 };
        const step = req.cn === '2051' ? 10 * MIN : 60 * MIN;
        const parts = [encodePacket(requestAck(me, QnRtn.Ready))];
        for (let t = GAP_START; t <= GAP_END; t += step) parts.push(upload(mn, req.cn, req.qn!, t, 4));
        parts.push(encodePacket(executionResult(me, ExeRtn.Success)));
        c.send(Buffer.concat(parts));
        answered++;
      }
    });
    c.send(upload(mn, '2011', formatQn(new Date()), Date.now(), 4));
    fleet.push(c);
  }

  // Live loggers: a 2011 with Flag=5 every LIVE_MS each, 9014 timed.
  const latencies: { at: number; ms: number }[] = [];
  let running = true;
  const live = Promise.all(
    Array.from({ length: LIVE }, async (_, i) => {
      const c = await Logger212.connect(h.port);
      const mn = mnOf(LOGGERS + i);
      await new Promise((r) => setTimeout(r, Math.random() * LIVE_MS));
      while (running) {
        const t0 = performance.now();
        c.send(upload(mn, '2011', formatQn(new Date()), Date.now(), 5));
        await c.waitFrames(c.frames.length + 1, 60_000);
        latencies.push({ at: Date.now(), ms: performance.now() - t0 });
        await new Promise((r) => setTimeout(r, Math.max(0, LIVE_MS - (performance.now() - t0))));
      }
      c.end();
    }),
  );

  await new Promise((r) => setTimeout(r, BASELINE_S * 1000));
  const backfillStart = Date.now();
  const loadBefore = load();
  const deviations = Array.from({ length: LOGGERS }, (_, i) => ({
    schema: 'deviation.v1',
    id: `bench-${i}`,
    rule: 'offline',
    state: 'resolved',
    revision: 2,
    severity: 'low',
    enterpriseId: 'e1',
    siteId: outlet,
    windowStart: new Date(GAP_START).toISOString(),
    windowEnd: new Date(GAP_END).toISOString(),
    openedAt: new Date(GAP_START + 10 * MIN).toISOString(),
    resolvedAt: new Date(GAP_END).toISOString(),
    suspectedFalsification: false,
    inResumptionWindow: false,
    evidence: {
      summary: 'bench',
      values: [],
      params: { deviceId: mnOf(i), lastSeenAt: GAP_START, resumedAt: GAP_END },
    },
    emittedAt: new Date().toISOString(),
  }));
  for (let i = 0; i < deviations.length; i += 500)
    await h.produce(h.commandTopics.deviation, 'e1', deviations.slice(i, i + 500));
  const want = LOGGERS * 2;
  const fulfilled = () =>
    metricValue(h.registry, 'offsite_hj212_command_requests_total', { event: 'fulfilled' });
  let done = 0;
  while ((done = await fulfilled()) < want) {
    if (Date.now() - backfillStart > 5 * 60_000) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const backfillEnd = Date.now();
  const loadAfter = load();
  running = false;
  await live;
  const seconds = (backfillEnd - backfillStart) / 1000;
  const sent = await metricValue(h.registry, 'offsite_hj212_commands_total', { outcome: 'sent' });
  const timedOut = await metricValue(h.registry, 'offsite_hj212_commands_total', { outcome: 'timed-out' });
  const rows = await h.pool.query<{ status: string; n: number; readings: number }>(
    `select status, count(*)::int n, sum(readings)::int readings from gateway_commands group by status`,
  );
  const base = latencies.filter((l) => l.at < backfillStart).map((l) => l.ms);
  const during = latencies.filter((l) => l.at >= backfillStart && l.at <= backfillEnd).map((l) => l.ms);
  console.log(`backfill of a 2-hour gap (2051 + 2061) for ${LOGGERS} loggers, rate limit ${PER_S}/s:`);
  console.log(
    `  ${done} of ${want} requests fulfilled in ${seconds.toFixed(1)} s (${(sent / seconds).toFixed(1)} commands sent/s, ${sent} sent, ${timedOut} timed out; loggers answered ${answered})`,
  );
  console.log(`  records: ${rows.rows.map((r) => `${r.status} ${r.n} (${r.readings} readings)`).join(', ')}`);
  console.log(line(`  live 9014, ${LIVE} loggers every ${LIVE_MS} ms, before (${BASELINE_S} s)`, base));
  console.log(line('  live 9014 during the backfill', during));
  console.log(`  load average before ${loadBefore}, after ${loadAfter}`);
  for (const c of fleet) c.end();
} finally {
  await h.stop();
}
