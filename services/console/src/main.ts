import { fileURLToPath } from 'node:url';
import pg from 'pg';
import {
  ConfigError,
  createLifecycle,
  createLogger,
  createMetricsRegistry,
  installSignalHandlers,
  loadConfig,
  redact,
  secretKeys,
  startOpsServer,
  withTimeout,
  type OpsServer,
} from '@offsite/runtime';
import { createInfluxClient } from '@offsite/influx';
import { runMigrations } from '@offsite/store';
import { buildApp } from './app.js';
import { Env } from './config.js';
import { createLiveHub } from './live.js';

let env;
try {
  env = loadConfig(Env, process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(78);
}

const logger = createLogger({ service: 'console', level: env.OFFSITE_LOG_LEVEL });
logger.info({ config: redact(env, secretKeys(Env)) }, 'configuration loaded');
const registry = createMetricsRegistry({ defaultMetrics: true, defaultLabels: { service: 'console' } });

const pool = new pg.Pool({ connectionString: env.OFFSITE_PG_URL, max: 10 });
pool.on('error', (err) => logger.error({ err }, 'idle Postgres client failed'));
const influx = createInfluxClient(
  {
    url: env.OFFSITE_INFLUX_URL,
    token: env.OFFSITE_INFLUX_TOKEN,
    org: env.OFFSITE_INFLUX_ORG,
    bucket: env.OFFSITE_INFLUX_BUCKET,
  },
  logger,
);
const live = createLiveHub(pool, logger.child({ component: 'live' }));
const app = await buildApp({
  pool,
  logger: logger.child({ component: 'http' }),
  session: {
    idleMs: env.OFFSITE_CONSOLE_SESSION_IDLE_MIN * 60_000,
    absoluteMs: env.OFFSITE_CONSOLE_SESSION_MAX_HOURS * 3_600_000,
  },
  secureCookies: env.OFFSITE_CONSOLE_SECURE_COOKIES,
  loginRateLimit: { max: env.OFFSITE_CONSOLE_LOGIN_MAX_PER_MIN, windowMs: 60_000 },
  evidence: {
    client: influx,
    org: env.OFFSITE_INFLUX_ORG,
    bucket: env.OFFSITE_INFLUX_BUCKET,
    emissionMeasurement: env.OFFSITE_INFLUX_EMISSION_MEASUREMENT,
    energyMeasurement: env.OFFSITE_INFLUX_ENERGY_MEASUREMENT,
    aggregateMeasurement: env.OFFSITE_INFLUX_AGGREGATE_MEASUREMENT,
    marginHours: env.OFFSITE_CONSOLE_EVIDENCE_MARGIN_HOURS,
  },
  live,
  webRoot: fileURLToPath(new URL('../web/dist/', import.meta.url)),
});

const lifecycle = createLifecycle({ logger, shutdownDeadlineMs: env.OFFSITE_SHUTDOWN_DEADLINE_MS });
let ops: OpsServer | undefined;
lifecycle.register({
  name: 'ops-server',
  start: async () => {
    ops = await startOpsServer({
      host: env.OFFSITE_OPS_HOST,
      port: env.OFFSITE_OPS_PORT,
      registry,
      checks: () => lifecycle.healthChecks(),
      logger,
    });
  },
  stop: () => ops?.close(),
});
lifecycle.register({
  name: 'postgres',
  start: async () => {
    await runMigrations(pool, { logger });
  },
  stop: () => withTimeout(pool.end(), 5_000, 'pg pool end'),
  check: async () => {
    await pool.query('select 1');
    return true;
  },
});
lifecycle.register({ name: 'live-updates', start: () => live.start(), stop: () => live.close() });
lifecycle.register({
  name: 'http',
  start: async () => {
    await app.listen({ host: env.OFFSITE_CONSOLE_HOST, port: env.OFFSITE_CONSOLE_PORT });
  },
  stop: () => withTimeout(app.close(), 10_000, 'http close'),
});

installSignalHandlers(lifecycle, process);
process.exit(await lifecycle.run());
