/**
 * Secure transports, configured the same way in every service: schema fragments a service spreads into
 * its environment schema, and the mapping from the loaded values to client options. TLS always verifies
 * the server's certificate (against the CA file when one is given, otherwise the system's CAs).
 *
 * - Kafka: `OFFSITE_KAFKA_TLS`, `OFFSITE_KAFKA_CA_FILE`, `OFFSITE_KAFKA_SASL_MECHANISM` (`scram-sha-512`),
 *   `OFFSITE_KAFKA_USERNAME`, `OFFSITE_KAFKA_PASSWORD` → `kafkaSecurity(env)` for `createKafkaClient`.
 * - Postgres: `OFFSITE_PG_URL` with `?sslmode=verify-full&sslrootcert=/path/ca.pem` (node-postgres reads both);
 *   `PgUrl()` checks that the files it names are readable.
 * - Redis: `rediss://` (TLS), `redis+sentinel://` / `rediss+sentinel://` (Sentinel; see redis-url.ts),
 *   `OFFSITE_REDIS_CA_FILE`, `OFFSITE_REDIS_SENTINEL_PASSWORD` → `redisConnectionOptions(url, redisTls(env))`.
 * - InfluxDB: an `https://` URL and `OFFSITE_INFLUX_CA_FILE`; MQTT: `mqtts://` and `OFFSITE_MQTT_CA_FILE`
 *   → `readCaFile(path)`.
 */
import { readFileSync } from 'node:fs';
import { Type, type TString } from '@sinclair/typebox';

/** A PEM file of certificate authorities: must be readable when set (checked by loadConfig). */
const CaFile = (): TString => Type.String({ default: '', check: 'readable-file' });

/** The contents of a CA file, or undefined when none is configured (the system's CAs then apply). */
export function readCaFile(path: string): string | undefined {
  return path === '' ? undefined : readFileSync(path, 'utf8');
}

/** A Postgres URL; `sslrootcert`, `sslcert` and `sslkey` in its query must name readable files. */
export const PgUrl = (): TString => Type.String({ minLength: 1, secret: true, check: 'postgres-url' });
/** The Postgres schema a service works in (its search_path), `public` unless set. */
export const PgSchema = (): TString => Type.String({ pattern: '^[a-z_][a-z0-9_]*$', default: 'public' });

const PG_IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
const PG_SETTING_VALUE = /^[A-Za-z0-9_.]+$/;

/**
 * The `options` of every Postgres session (node-postgres' `options`): the schema first in the search_path, then
 * further settings such as `{ synchronous_commit: 'on' }`. Throws a RangeError on a name or value that is not a
 * plain identifier (they end up in a startup packet, never in SQL).
 */
export function pgSessionOptions(schema: string, settings: Readonly<Record<string, string>> = {}): string {
  if (!PG_IDENTIFIER.test(schema)) throw new RangeError(`not a schema name: ${JSON.stringify(schema)}`);
  const options = [`-c search_path=${schema}`];
  for (const [name, value] of Object.entries(settings)) {
    if (!PG_IDENTIFIER.test(name) || !PG_SETTING_VALUE.test(value))
      throw new RangeError(`not a Postgres setting: ${name}=${JSON.stringify(value)}`);
    options.push(`-c ${name}=${value}`);
  }
  return options.join(' ');
}
/** A Redis URL that `redisConnectionOptions` accepts. */
export const RedisUrl = (): TString => Type.String({ minLength: 1, secret: true, check: 'redis-url' });

export const KafkaSecurityEnv = {
  OFFSITE_KAFKA_TLS: Type.Boolean({ default: false }),
  OFFSITE_KAFKA_CA_FILE: CaFile(),
  OFFSITE_KAFKA_SASL_MECHANISM: Type.Union([Type.Literal('none'), Type.Literal('scram-sha-512')], {
    default: 'none',
    check: 'kafka-sasl',
  }),
  OFFSITE_KAFKA_USERNAME: Type.String({ default: '' }),
  OFFSITE_KAFKA_PASSWORD: Type.String({ default: '', secret: true }),
};
export const RedisTlsEnv = {
  OFFSITE_REDIS_CA_FILE: CaFile(),
  /** Password of the Sentinels themselves (`requirepass`), when they have one. */
  OFFSITE_REDIS_SENTINEL_PASSWORD: Type.String({ default: '', secret: true }),
};
export const InfluxTlsEnv = { OFFSITE_INFLUX_CA_FILE: CaFile() };
export const MqttTlsEnv = { OFFSITE_MQTT_CA_FILE: CaFile() };

export interface KafkaSecurity {
  /** TLS to the brokers; `ca` replaces the system's CAs. */
  tls?: { ca?: string };
  sasl?: { mechanism: 'scram-sha-512'; username: string; password: string };
}

export function kafkaSecurity(env: {
  readonly OFFSITE_KAFKA_TLS: boolean;
  readonly OFFSITE_KAFKA_CA_FILE: string;
  readonly OFFSITE_KAFKA_SASL_MECHANISM: 'none' | 'scram-sha-512';
  readonly OFFSITE_KAFKA_USERNAME: string;
  readonly OFFSITE_KAFKA_PASSWORD: string;
}): KafkaSecurity {
  const ca = readCaFile(env.OFFSITE_KAFKA_CA_FILE);
  return {
    ...(env.OFFSITE_KAFKA_TLS ? { tls: ca === undefined ? {} : { ca } } : {}),
    ...(env.OFFSITE_KAFKA_SASL_MECHANISM === 'scram-sha-512'
      ? {
          sasl: {
            mechanism: 'scram-sha-512' as const,
            username: env.OFFSITE_KAFKA_USERNAME,
            password: env.OFFSITE_KAFKA_PASSWORD,
          },
        }
      : {}),
  };
}

/** The InfluxDB connection (@offsite/influx's `InfluxConnection`) of a service's environment, its CA file read. */
export function influxConnection(env: {
  readonly OFFSITE_INFLUX_URL: string;
  readonly OFFSITE_INFLUX_CA_FILE: string;
  readonly OFFSITE_INFLUX_TOKEN: string;
  readonly OFFSITE_INFLUX_ORG: string;
  readonly OFFSITE_INFLUX_BUCKET: string;
}): { url: string; ca: string | undefined; token: string; org: string; bucket: string } {
  return {
    url: env.OFFSITE_INFLUX_URL,
    ca: readCaFile(env.OFFSITE_INFLUX_CA_FILE),
    token: env.OFFSITE_INFLUX_TOKEN,
    org: env.OFFSITE_INFLUX_ORG,
    bucket: env.OFFSITE_INFLUX_BUCKET,
  };
}

export function redisTls(env: {
  readonly OFFSITE_REDIS_CA_FILE: string;
  readonly OFFSITE_REDIS_SENTINEL_PASSWORD: string;
}): { ca?: string; sentinelPassword?: string } {
  const ca = readCaFile(env.OFFSITE_REDIS_CA_FILE);
  return {
    ...(ca !== undefined ? { ca } : {}),
    ...(env.OFFSITE_REDIS_SENTINEL_PASSWORD ? { sentinelPassword: env.OFFSITE_REDIS_SENTINEL_PASSWORD } : {}),
  };
}
