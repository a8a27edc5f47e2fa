/**
 * A valid logger's reply latency while other connections flood the gateway with garbage, against
 * the real Kafka and Postgres (the integration harness: own topics and schema, removed at the end).
 * Baseline in the same run: the same logger with no flood. Then `--floods` connections each write
 * 64 KiB of `##0001` repeated, one after another, while the logger sends `--packets` packets one at a
 * time. Prints p50/p99/max of both phases, the DLQ and raw records the floods made, and os.loadavg().
 *
 *   set -a; . .offsite/env; set +a
 *   flock /tmp/offsite-bench.lock node --import tsx services/hj212-gateway/bench/flood.bench.ts
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { encodePacket } from '@offsite/hj212';
import { Logger212, metricValue, startHarness } from '../test/harness.js';

const { values: args } = parseArgs({
  options: { packets: { type: 'string', default: '200' }, floods: { type: 'string', default: '50' } },
});
const PACKETS = Number(args.packets);
const FLOODS = Number(args.floods);
const GAS = { mn: '99010201FG00010000000001', pw: 'Hd7q2Lx9' };

let seq = 0;
const packet = () =>
  encodePacket({
    qn: `20240304${String(1_000_000_000 + seq++).slice(1)}`,
    st: '31',
    cn: '2011',
    pw: GAS.pw,
    mn: GAS.mn,
    flag: 5,
    cp: 'DataTime=20240304101030;a21026-Rtd=35.2,a21026-Flag=N',
  });

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const line = (name: string, xs: number[]) =>
  `${name}: ${xs.length} replies, p50 ${pct(xs, 50).toFixed(1)} ms, p99 ${pct(xs, 99).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms`;

async function replies(logger: Logger212, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    logger.send(packet());
    await logger.waitFrames(logger.frames.length + 1);
    out.push(performance.now() - t0);
  }
  return out;
}

const h = await startHarness({ guard: { maxConnectionsPerSource: 10_000 } });
try {
  const logger = await Logger212.connect(h.port, '127.0.3.1');
  await replies(logger, 20); // warm-up
  const baseline = await replies(logger, PACKETS);

  const flood = Buffer.from('##0001'.repeat(Math.ceil(65_536 / 6)).slice(0, 65_536));
  let flooding = true;
  const floods = (async () => {
    for (let i = 0; i < FLOODS && flooding; i++) {
      const a = await Logger212.connect(h.port, `127.0.4.${(i % 250) + 1}`);
      a.send(flood);
      await a.waitClosed(30_000).catch(() => a.end());
    }
  })();
  const during = await replies(logger, PACKETS);
  flooding = false;
  await floods;
  logger.end();

  const dlq = await metricValue(h.registry, 'offsite_hj212_dlq_total', { reason: 'hj212.garbage' });
  const closed = await metricValue(h.registry, 'offsite_hj212_connections_total', {
    event: 'bad-frame-budget',
  });
  console.log(line('baseline (no flood)', baseline));
  console.log(line(`during up to ${FLOODS} floods of 64 KiB`, during));
  console.log(`floods closed for their budget: ${closed}; hj212.garbage DLQ records: ${dlq}`);
  console.log(
    `load average ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
} finally {
  await h.stop();
}
