// Names of a test's own Postgres schema, Kafka topics and InfluxDB database, and their removal.
import { randomBytes } from 'node:crypto';
import { createInfluxClient } from '@offsite/influx';
import { requireEnv, silentLogger } from '@offsite/testing';
import type { Kafka } from 'kafkajs';
import pg from 'pg';

export function testResources(name: string) {
  const suffix = randomBytes(4).toString('hex');
  const influxDb = `test_analyzer_${name}_${suffix}`;
  const bucket = `${influxDb}/autogen`;
  return {
    suffix,
    schema: `test_analyzer_${name}_${suffix}`,
    telemetryTopic: `test.analyzer-${name}.telemetry.${suffix}`,
    deviationTopic: `test.analyzer-${name}.deviation.${suffix}`,
    dlqTopic: `test.analyzer-${name}.dlq.${suffix}`,
    reviewTopic: `test.analyzer-${name}.review.${suffix}`,
    influxDb,
    bucket,
    influxConn: () => ({
      url: requireEnv('OFFSITE_INFLUX_URL'),
      token: process.env.OFFSITE_INFLUX_TOKEN ?? '',
      org: process.env.OFFSITE_INFLUX_ORG ?? '-',
      bucket,
    }),
  };
}

export type TestResources = ReturnType<typeof testResources>;

/** Deletes the topics, drops the schema and the InfluxDB database (best effort for the topics and the database). */
export async function dropResources(kafka: Kafka, r: TestResources): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin
    .deleteTopics({ topics: [r.telemetryTopic, r.deviationTopic, r.dlqTopic, r.reviewTopic] })
    .catch(() => undefined);
  await admin.disconnect();
  const c = new pg.Client({ connectionString: requireEnv('OFFSITE_PG_URL') });
  await c.connect();
  await c.query(`drop schema if exists ${r.schema} cascade`);
  await c.end();
  await createInfluxClient(r.influxConn(), silentLogger)
    .transport.request(`/query?q=${encodeURIComponent(`DROP DATABASE "${r.influxDb}"`)}`, '', {
      method: 'POST',
    })
    .catch(() => undefined);
}
