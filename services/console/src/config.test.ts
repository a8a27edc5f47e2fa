import { ConfigError, loadConfig } from '@offsite/runtime';
import { Env } from './config.js';

const required = {
  OFFSITE_PG_URL: 'postgres://u:p@127.0.0.1:25432/offsite',
  OFFSITE_INFLUX_URL: 'http://127.0.0.1:28086',
  OFFSITE_INFLUX_TOKEN: 'u:p',
  OFFSITE_INFLUX_BUCKET: 'offsite/autogen',
  OFFSITE_REDIS_URL: 'redis://127.0.0.1:26379',
  OFFSITE_KAFKA_BROKERS: '127.0.0.1:29092',
};

it('defaults: ops on loopback 9107, console HTTP 8080, the influx-writer and analyzer measurement names', () => {
  const env = loadConfig(Env, required);
  expect(env).toMatchObject({
    OFFSITE_OPS_HOST: '127.0.0.1',
    OFFSITE_OPS_PORT: 9107,
    OFFSITE_CONSOLE_HOST: '127.0.0.1',
    OFFSITE_CONSOLE_PORT: 8080,
    OFFSITE_INFLUX_EMISSION_MEASUREMENT: 'emission',
    OFFSITE_INFLUX_ENERGY_MEASUREMENT: 'energy',
    OFFSITE_INFLUX_AGGREGATE_MEASUREMENT: 'aggregate',
    OFFSITE_INFLUX_STATUS_MEASUREMENT: 'status',
    OFFSITE_CONSOLE_QUEUE_PREFIX: 'offsite-console',
    OFFSITE_KAFKA_BROKERS: ['127.0.0.1:29092'],
    OFFSITE_CONSOLE_REVIEW_DECISION_TOPIC: 'review.decision.v1',
    OFFSITE_CONSOLE_MESSAGE_REQUEST_TOPIC: 'message.request.v1',
    OFFSITE_CONSOLE_HJ212_COMMAND_TOPIC: 'hj212.command.v1',
    OFFSITE_CONSOLE_LATE_DATA_TOPIC: 'telemetry.late.v1',
    OFFSITE_CONSOLE_DLQ_TOPIC: 'telemetry.dlq.v1',
    // Stored transmission days on: the late-data consumer keeps them true.
    OFFSITE_CONSOLE_TRANSMISSION_STORE_DAYS: true,
    OFFSITE_CONSOLE_OUTREACH_RATE_MAX: 10,
    OFFSITE_CONSOLE_OUTREACH_RATE_DURATION_MS: 1000,
  });
});

it('reports every missing or invalid variable by name', () => {
  let err: unknown;
  try {
    loadConfig(Env, { OFFSITE_CONSOLE_PORT: 'x' });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ConfigError);
  for (const name of [
    'OFFSITE_PG_URL',
    'OFFSITE_INFLUX_URL',
    'OFFSITE_INFLUX_BUCKET',
    'OFFSITE_REDIS_URL',
    'OFFSITE_KAFKA_BROKERS',
    'OFFSITE_CONSOLE_PORT',
  ])
    expect((err as Error).message).toContain(name);
});
