// What an operator's import of remote-sensing detection files needs, for `offsite remote-sensing import`
// (@offsite/cli): the settings (the analyzer's, plus the city's bounds and the OFFSITE_ANALYZER_RS_* rules and
// limits) and an importer holding Postgres, InfluxDB and a durable Kafka producer of deviation.v1 open while it
// imports files one after another (remote-sensing-import.ts).
import { Type, type Static } from '@sinclair/typebox';
import { kafkaMessage, kafkaTopics, type DeviationV1 } from '@offsite/contracts';
import { DEFAULT_REMOTE_SENSING_RULES } from '@offsite/domain';
import { createInfluxClient, queryInfluxQL } from '@offsite/influx';
import { createDurableProducer, createKafkaClient } from '@offsite/kafka';
import { influxConnection, kafkaSecurity, type DeepReadonly, type Logger } from '@offsite/runtime';
import { createPgPool, loadRegistrySnapshot, type GeoBounds } from '@offsite/store';
import { AnalyzerEnv } from './config.js';
import { importDetectionFile, type ImportOutcome } from './remote-sensing-import.js';

export type { ImportOutcome } from './remote-sensing-import.js';
export type { FileIssue } from './remote-sensing-file.js';

export const RemoteSensingEnv = Type.Object({
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

export type RemoteSensingSettings = DeepReadonly<Static<typeof RemoteSensingEnv>>;

export interface RemoteSensingImporter {
  /** One file as `importedBy`: refused whole with its issues, or stored and judged (remote-sensing-import.ts). */
  importFile(file: { name: string; bytes: Buffer }, importedBy: string): Promise<ImportOutcome>;
  close(): Promise<void>;
}

/** Connects to Kafka and reads the registry once; `cityBounds` (parsed from OFFSITE_CITY_BOUNDS) bounds the positions. */
export async function openRemoteSensingImporter(
  env: RemoteSensingSettings,
  cityBounds: GeoBounds | undefined,
  logger: Logger,
): Promise<RemoteSensingImporter> {
  const pool = createPgPool({ url: env.OFFSITE_PG_URL, schema: env.OFFSITE_PG_SCHEMA, max: 2, logger });
  const client = createInfluxClient(influxConnection(env), logger);
  const kafka = createKafkaClient({
    ...kafkaSecurity(env),
    brokers: [...env.OFFSITE_KAFKA_BROKERS],
    clientId: 'offsite-analyzer-remote-sensing',
    logger,
  });
  const producer = createDurableProducer(kafka, { logger });
  try {
    await producer.connect();
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
        ...(cityBounds ? { cityBounds } : {}),
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
    const close = async () => {
      await producer.disconnect();
      await pool.end();
    };
    return { importFile: (file, by) => importDetectionFile(opts, snapshot, file, by), close };
  } catch (error) {
    await producer.disconnect().catch(() => undefined);
    await pool.end();
    throw error;
  }
}
