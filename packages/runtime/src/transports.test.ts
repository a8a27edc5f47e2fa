import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { ConfigError, loadConfig } from './config.js';
import { redisConnectionOptions } from './redis-url.js';
import {
  InfluxTlsEnv,
  KafkaSecurityEnv,
  PgUrl,
  RedisTlsEnv,
  RedisUrl,
  kafkaSecurity,
  redisTls,
} from './transports.js';

const dir = mkdtempSync(join(tmpdir(), 'offsite-transports-'));
const ca = join(dir, 'ca.pem');
writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
const missing = join(dir, 'nope.pem');

const Schema = Type.Object({
  OFFSITE_PG_URL: PgUrl(),
  OFFSITE_REDIS_URL: RedisUrl(),
  ...KafkaSecurityEnv,
  ...RedisTlsEnv,
  ...InfluxTlsEnv,
});
const base = {
  OFFSITE_PG_URL: 'postgres://u:pw@db:5432/offsite',
  OFFSITE_REDIS_URL: 'redis://127.0.0.1:6379',
};

function issues(env: Record<string, string>): Record<string, string> {
  try {
    loadConfig(Schema, env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return Object.fromEntries(e.issues.map((i) => [i.variable, i.message]));
  }
  return {};
}

describe('secure transport settings', () => {
  it('plaintext defaults need nothing more', () => {
    const env = loadConfig(Schema, base);
    expect(kafkaSecurity(env)).toEqual({});
    expect(redisTls(env)).toEqual({});
  });

  it('reports every missing certificate file by its variable, and never the URL password', () => {
    const found = issues({
      OFFSITE_PG_URL: `postgres://u:s3cret-pw@db/offsite?sslmode=verify-full&sslrootcert=${missing}`,
      OFFSITE_REDIS_URL: 'rediss://u:s3cret-pw@redis:6380',
      OFFSITE_KAFKA_TLS: 'true',
      OFFSITE_KAFKA_CA_FILE: missing,
      OFFSITE_REDIS_CA_FILE: missing,
      OFFSITE_INFLUX_CA_FILE: missing,
    });
    expect(found).toEqual({
      OFFSITE_PG_URL: `sslrootcert: cannot read file ${missing} (ENOENT)`,
      OFFSITE_KAFKA_CA_FILE: `cannot read file ${missing} (ENOENT)`,
      OFFSITE_REDIS_CA_FILE: `cannot read file ${missing} (ENOENT)`,
      OFFSITE_INFLUX_CA_FILE: `cannot read file ${missing} (ENOENT)`,
    });
    expect(JSON.stringify(found)).not.toContain('s3cret-pw');
  });

  it('refuses SASL without credentials, an unknown sslmode and a Redis URL it cannot use', () => {
    expect(
      issues({
        OFFSITE_PG_URL: 'postgres://u:pw@db/offsite?sslmode=strict',
        OFFSITE_REDIS_URL: 'rediss+sentinel://u:pw@s1:26379',
        OFFSITE_KAFKA_SASL_MECHANISM: 'scram-sha-512',
        OFFSITE_KAFKA_USERNAME: 'svc',
      }),
    ).toEqual({
      OFFSITE_PG_URL: 'sslmode=strict is not one of disable, require, verify-ca, verify-full',
      OFFSITE_REDIS_URL: 'a Sentinel URL names the master after the hosts (…/mymaster)',
      OFFSITE_KAFKA_SASL_MECHANISM: 'scram-sha-512 needs OFFSITE_KAFKA_USERNAME and OFFSITE_KAFKA_PASSWORD',
    });
  });

  it('maps Kafka TLS with a CA and SCRAM-SHA-512 to client options', () => {
    const env = loadConfig(Schema, {
      ...base,
      OFFSITE_KAFKA_TLS: 'yes',
      OFFSITE_KAFKA_CA_FILE: ca,
      OFFSITE_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      OFFSITE_KAFKA_USERNAME: 'svc',
      OFFSITE_KAFKA_PASSWORD: 'pw',
    });
    expect(kafkaSecurity(env)).toEqual({
      tls: { ca: expect.stringContaining('BEGIN CERTIFICATE') },
      sasl: { mechanism: 'scram-sha-512', username: 'svc', password: 'pw' },
    });
  });
});

describe('redisConnectionOptions with TLS and Sentinel', () => {
  it('rediss:// turns TLS on with the CA', () => {
    expect(redisConnectionOptions('rediss://offsite:p%40ss@127.0.0.1:6380/2', { ca: 'PEM' })).toEqual({
      host: '127.0.0.1',
      port: 6380,
      username: 'offsite',
      password: 'p@ss',
      db: 2,
      tls: { ca: 'PEM' },
      maxRetriesPerRequest: null,
    });
  });

  it('a Sentinel URL lists the Sentinels and names the master; rediss+sentinel is TLS to both', () => {
    expect(redisConnectionOptions('redis+sentinel://s1:26379,[::1]/offsite')).toEqual({
      sentinels: [
        { host: 's1', port: 26379 },
        { host: '::1', port: 26379 },
      ],
      name: 'offsite',
      maxRetriesPerRequest: null,
    });
    expect(
      redisConnectionOptions('rediss+sentinel://offsite:pw@127.0.0.1:26990/offsite/1', {
        ca: 'PEM',
        sentinelPassword: 'spw',
      }),
    ).toEqual({
      sentinels: [{ host: '127.0.0.1', port: 26990 }],
      name: 'offsite',
      username: 'offsite',
      password: 'pw',
      db: 1,
      sentinelPassword: 'spw',
      tls: { ca: 'PEM' },
      sentinelTLS: { ca: 'PEM' },
      enableTLSForSentinelMode: true,
      maxRetriesPerRequest: null,
    });
  });
});
