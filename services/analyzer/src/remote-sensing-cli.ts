// `npm run remote-sensing -w @offsite/analyzer -- FILE… [--by NAME]`: imports remote-sensing (遥感) hotspot and plume
// detection files (CSV or GeoJSON; remote-sensing-file.ts) into the analyzer, which judges them against the
// registry's positions (remote-sensing-import.ts). Prints one JSON line per file: accepted with what it opened, or
// refused with every problem (row, field, English / Chinese). Exit 0 all accepted, 1 a file refused or failed,
// 64 usage, 78 bad settings. Environment: the analyzer's, plus OFFSITE_CITY_BOUNDS and OFFSITE_ANALYZER_RS_*.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { Type } from '@sinclair/typebox';
import { kafkaMessage, kafkaTopics, type DeviationV1 } from '@offsite/contracts';
import { DEFAULT_REMOTE_SENSING_RULES } from '@offsite/domain';
import { createInfluxClient, queryInfluxQL } from '@offsite/influx';
import { createDurableProducer, createKafkaClient } from '@offsite/kafka';
import { ConfigError, createLogger, influxConnection, kafkaSecurity, loadConfig } from '@offsite/runtime';
import { cityBoundsFrom, createPgPool, loadRegistrySnapshot } from '@offsite/store';
import { AnalyzerEnv } from './config.js';
import { importDetectionFile } from './remote-sensing-import.js';

const RemoteSensingEnv = Type.Object({
  ...AnalyzerEnv.properties,
  OFFSITE_INFLUX_EMISSION_MEASUREMENT: Type.String({ default: 'emission' }),
  /** south,west,north,east (WGS-84 degrees): a detection outside the city refuses its file. */
  OFFSITE_CITY_BOUNDS: Type.Optional(Type.Array(Type.Number(), { minItems: 4, maxItems: 4 })),
  OFFSITE_ANALYZER_RS_RADIUS_M: Type.Number({
    exclusiveMinimum: 0,
    maximum: 50_000,
    default: DEFAULT_REMOTE_SENSING_RULES.radiusM,
  }),
  OFFSITE_ANALYZER_RS_MIN_CONFIDENCE: Type.Number({
    minimum: 0,
    maximum: 1,
    default: DEFAULT_REMOTE_SENSING_RULES.minConfidence,
  }),
  OFFSITE_ANALYZER_RS_SILENCE_MIN: Type.Integer({
    minimum: 1,
    maximum: 1440,
    default: DEFAULT_REMOTE_SENSING_RULES.silenceMinutes,
  }),
  OFFSITE_ANALYZER_RS_MAX_BYTES: Type.Integer({ minimum: 1, maximum: 100_000_000, default: 5_000_000 }),
  OFFSITE_ANALYZER_RS_MAX_DETECTIONS: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 10_000 }),
});

const usage = 'usage: remote-sensing-cli.ts FILE… [--by NAME]\n';
// An unknown option (`--help` too) gets the usage, not a stack trace.
const { positionals, values } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: { by: { type: 'string', default: process.env.USER ?? 'operator' } },
    });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${usage}`);
    return process.exit(64);
  }
})();
if (positionals.length === 0) {
  process.stderr.write(`give at least one FILE\n${usage}`);
  process.exit(64);
}

let env;
try {
  env = loadConfig(RemoteSensingEnv, process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(78);
}
const bounds = env.OFFSITE_CITY_BOUNDS ? cityBoundsFrom(env.OFFSITE_CITY_BOUNDS) : undefined;
if (typeof bounds === 'string') {
  process.stderr.write(`OFFSITE_CITY_BOUNDS ${bounds}\n`);
  process.exit(78);
}

const logger = createLogger({ service: 'analyzer-remote-sensing', level: 'warn' });
const pool = createPgPool({ url: env.OFFSITE_PG_URL, schema: env.OFFSITE_PG_SCHEMA, max: 2, logger });
const client = createInfluxClient(influxConnection(env), logger);
const kafka = createKafkaClient({
  ...kafkaSecurity(env),
  brokers: [...env.OFFSITE_KAFKA_BROKERS],
  clientId: 'offsite-analyzer-remote-sensing',
  logger,
});
const producer = createDurableProducer(kafka, { logger });
await producer.connect();
try {
  const snapshot = await loadRegistrySnapshot(pool);
  const opts = {
    pool,
    query: (bucket: string, q: Parameters<typeof queryInfluxQL>[2]) => queryInfluxQL(client, bucket, q),
    bucket: env.OFFSITE_INFLUX_BUCKET,
    emissionMeasurement: env.OFFSITE_INFLUX_EMISSION_MEASUREMENT,
    rules: {
      ...DEFAULT_REMOTE_SENSING_RULES,
      radiusM: env.OFFSITE_ANALYZER_RS_RADIUS_M,
      minConfidence: env.OFFSITE_ANALYZER_RS_MIN_CONFIDENCE,
      silenceMinutes: env.OFFSITE_ANALYZER_RS_SILENCE_MIN,
    },
    limits: {
      maxBytes: env.OFFSITE_ANALYZER_RS_MAX_BYTES,
      maxDetections: env.OFFSITE_ANALYZER_RS_MAX_DETECTIONS,
      ...(bounds ? { cityBounds: bounds } : {}),
    },
    emit: async (events: DeviationV1[]) => {
      await producer.send(
        env.OFFSITE_ANALYZER_DEVIATION_TOPIC,
        events.map((e) => kafkaMessage(kafkaTopics.deviation, e)),
      );
    },
    logger,
    now: () => Date.now(),
  };
  for (const path of positionals) {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      process.stderr.write(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})\n`);
      process.exitCode = 1;
      continue;
    }
    const r = await importDetectionFile(opts, snapshot, { name: basename(path), bytes }, values.by);
    process.stdout.write(`${JSON.stringify({ file: path, ...r })}\n`);
    if (r.state === 'rejected') {
      for (const i of r.issues) process.stderr.write(`${path}: ${i.where}: ${i.field}: ${i.en} / ${i.zh}\n`);
      process.exitCode = 1;
    }
  }
} finally {
  await producer.disconnect();
  await pool.end();
}
