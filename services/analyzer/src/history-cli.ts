// `npm run history -w @offsite/analyzer -- <command>`: the analyzer's figures for a simulated history (the demo).
//   backfill --to <ISO> --days <n> [--missing-every <enterprise>=<n>]… [--silent-from <enterprise>=<ISO>]…
//            [--near-limit <enterprise>]…
//     writes the hourly and daily aggregates of the n days before --to for every enterprise of the registry
//     (history.ts), through the analyzer's own `aggregate` points; a silent enterprise's aggregates from its
//     --silent-from on are deleted first (an earlier run may have written some); a near-limit enterprise's valid
//     hours lie at 92–98 % of the limit (it stands out among the peers of its process);
//   stability --as-of <ISO>
//     one stability round as of that time (window: OFFSITE_ANALYZER_STABILITY_WINDOW_DAYS ending at its last full
//     hour), "last received" taken from the data's own time (stability-job.ts), upserted into analyzer_stability.
//   production-emission --as-of <ISO>
//     one emissions-against-production round (production-emission-job.ts) judging the Shanghai day that ends at or
//     before that time: its finding goes to OFFSITE_ANALYZER_DEVIATION_TOPIC and the deviation log, each outlet's
//     judgement to analyzer_cross_checks, as the scheduled round does.
//   peers --as-of <ISO>
//     one peers round (peers-job.ts) over the 30 days ending at the Shanghai midnight at or before that time: its
//     findings go to OFFSITE_ANALYZER_DEVIATION_TOPIC and the deviation log, each outlet's judgement to
//     analyzer_cross_checks, the risk component to analyzer_risk_components, as the scheduled round does.
//   cross-device --as-of <ISO>
//     one cross-device consistency round (cross-device-job.ts) judging the Shanghai day that ends at or before that
//     time: flue-gas O2 / flow / temperature and the devices of one stack; findings to
//     OFFSITE_ANALYZER_DEVIATION_TOPIC and the deviation log, each outlet's judgements to analyzer_cross_checks, the
//     risk component to analyzer_risk_components, as the scheduled round does.
// Prints one JSON line with what it did. Environment: the analyzer's (.offsite/env).
import { parseArgs } from 'node:util';
import { kafkaMessage, kafkaTopics, type DeviationV1 } from '@offsite/contracts';
import { makeConfig } from '@offsite/domain';
import { createInfluxClient, createInfluxWriter, queryInfluxQL, type InfluxQLQuery } from '@offsite/influx';
import { createDurableProducer, createKafkaClient } from '@offsite/kafka';
import { ConfigError, createLogger, influxConnection, kafkaSecurity, loadConfig } from '@offsite/runtime';
import { createPgPool, loadRegistrySnapshot } from '@offsite/store';
import { markLateLoadHours } from './annual-load-state.js';
import { AnalyzerEnv } from './config.js';
import { runCrossDeviceJob } from './cross-device-job.js';
import { writeHistory, type HistoryProfile } from './history.js';
import { runPeersJob } from './peers-job.js';
import { runProductionEmissionJob } from './production-emission-job.js';
import { runStabilityJob } from './stability-job.js';

const usage =
  'usage: history-cli.ts backfill --to <ISO> --days <n> [--missing-every <ent>=<n>]… [--silent-from <ent>=<ISO>]…\n' +
  '                       [--near-limit <ent>]…\n' +
  '       history-cli.ts stability --as-of <ISO>\n' +
  '       history-cli.ts production-emission --as-of <ISO>\n' +
  '       history-cli.ts peers --as-of <ISO>\n' +
  '       history-cli.ts cross-device --as-of <ISO>\n';
function fail(message: string, code = 64): never {
  process.stderr.write(`${message}\n${usage}`);
  process.exit(code);
}

// An unknown option (`--help` too) gets the usage, not a stack trace.
const { positionals, values } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        to: { type: 'string' },
        days: { type: 'string' },
        'as-of': { type: 'string' },
        'missing-every': { type: 'string', multiple: true, default: [] },
        'silent-from': { type: 'string', multiple: true, default: [] },
        'near-limit': { type: 'string', multiple: true, default: [] },
      },
    });
  } catch (e) {
    return fail((e as Error).message);
  }
})();
const time = (name: string, v: string | undefined): number => {
  const t = v === undefined ? NaN : Date.parse(v);
  if (!Number.isFinite(t) || t % 3_600_000 !== 0) fail(`--${name} must be a time on a whole hour, got ${v}`);
  return t;
};
const pairs = (name: string, list: string[], parse: (v: string) => number): Map<string, number> =>
  new Map(
    list.map((p) => {
      const [ent, v] = p.split('=');
      if (!ent || v === undefined) fail(`--${name} takes <enterprise>=<value>, got ${p}`);
      return [ent, parse(v)];
    }),
  );

let env;
try {
  env = loadConfig(AnalyzerEnv, process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  fail(error.message, 78);
}
const logger = createLogger({ service: 'analyzer-history', level: 'warn' });
const pool = createPgPool({ url: env.OFFSITE_PG_URL, schema: env.OFFSITE_PG_SCHEMA, max: 2, logger });
const influx = influxConnection(env);
try {
  const snapshot = await loadRegistrySnapshot(pool);
  if (positionals[0] === 'backfill') {
    const to = time('to', values.to);
    const days = Number(values.days);
    if (!Number.isInteger(days) || days < 1 || days > 3660) fail(`--days must be 1–3660, got ${values.days}`);
    const missing = pairs('missing-every', values['missing-every'], (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 2) fail(`--missing-every needs an integer ≥ 2, got ${v}`);
      return n;
    });
    const silent = pairs('silent-from', values['silent-from'], (v) => time('silent-from', v));
    const known = new Set(snapshot.enterprises.map((e) => e.id));
    const near = values['near-limit'];
    for (const id of [...missing.keys(), ...silent.keys(), ...near])
      if (!known.has(id)) fail(`enterprise ${id} is not in the registry`);
    const profiles = new Map<string, HistoryProfile>();
    for (const [id, n] of missing) profiles.set(id, { missingEvery: n });
    for (const [id, t] of silent) profiles.set(id, { ...profiles.get(id), silentFrom: t });
    for (const id of near) profiles.set(id, { ...profiles.get(id), nearLimit: true });
    const client = createInfluxClient(influx, logger);
    const writer = createInfluxWriter({ ...influx, logger });
    const from = to - days * 86_400_000;
    const points = await writeHistory(
      { query: (bucket, q) => queryInfluxQL(client, bucket, q), bucket: env.OFFSITE_INFLUX_BUCKET, writer },
      snapshot.enterprises,
      from,
      to,
      profiles,
    );
    writer.close();
    // Hours the annual-load round may already have carried in its sums: their outlets' years are read again.
    await markLateLoadHours(
      pool,
      new Map(snapshot.enterprises.flatMap((e) => e.outlets.map((o) => [o.id, from] as const))),
      0,
    );
    process.stdout.write(`${JSON.stringify({ enterprises: snapshot.enterprises.length, points })}\n`);
  } else if (positionals[0] === 'stability') {
    const asOf = time('as-of', values['as-of']);
    const client = createInfluxClient(influx, logger);
    const result = await runStabilityJob(
      {
        db: pool,
        query: (bucket, q) => queryInfluxQL(client, bucket, q),
        bucket: env.OFFSITE_INFLUX_BUCKET,
        windowDays: env.OFFSITE_ANALYZER_STABILITY_WINDOW_DAYS,
        policy: { minEffectiveTransmissionRate: env.OFFSITE_ANALYZER_STABLE_MIN_EFFECTIVE_RATE },
        logger,
        lastReceived: 'data',
      },
      snapshot,
      asOf,
    );
    process.stdout.write(`${JSON.stringify({ asOf: new Date(asOf).toISOString(), ...result })}\n`);
    if (result.failed > 0) process.exitCode = 1;
  } else if (
    positionals[0] === 'production-emission' ||
    positionals[0] === 'peers' ||
    positionals[0] === 'cross-device'
  ) {
    const asOf = time('as-of', values['as-of']);
    const client = createInfluxClient(influx, logger);
    const kafka = createKafkaClient({
      ...kafkaSecurity(env),
      brokers: [...env.OFFSITE_KAFKA_BROKERS],
      clientId: 'offsite-analyzer-history',
      logger,
    });
    const producer = createDurableProducer(kafka, { logger });
    await producer.connect();
    try {
      const opts = {
        db: pool,
        query: (bucket: string, q: InfluxQLQuery) => queryInfluxQL(client, bucket, q),
        bucket: env.OFFSITE_INFLUX_BUCKET,
        engineConfig: makeConfig(),
        // The day (or window) judged is the one ending at or before --as-of: its data are all in.
        allowedLatenessMs: 0,
        emit: async (events: DeviationV1[]) => {
          await producer.send(
            env.OFFSITE_ANALYZER_DEVIATION_TOPIC,
            events.map((e) => kafkaMessage(kafkaTopics.deviation, e)),
          );
        },
        logger,
      };
      if (positionals[0] === 'peers') {
        const round = await runPeersJob(opts, snapshot, asOf);
        process.stdout.write(
          `${JSON.stringify({ ...round, window: { from: new Date(round.window.start).toISOString(), to: new Date(round.window.end).toISOString() } })}\n`,
        );
        if (round.failed > 0) process.exitCode = 1;
      } else if (positionals[0] === 'cross-device') {
        const round = await runCrossDeviceJob(opts, snapshot, asOf);
        process.stdout.write(
          `${JSON.stringify({ ...round, day: new Date(round.day.start).toISOString() })}\n`,
        );
        if (round.failed > 0) process.exitCode = 1;
      } else {
        const round = await runProductionEmissionJob(opts, snapshot, asOf);
        process.stdout.write(
          `${JSON.stringify({ ...round, day: new Date(round.day.start).toISOString() })}\n`,
        );
        if (round.failed > 0) process.exitCode = 1;
      }
    } finally {
      await producer.disconnect();
    }
  } else fail(`unknown command ${positionals[0] ?? '(none)'}`);
} finally {
  await pool.end();
}
