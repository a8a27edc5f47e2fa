/**
 * A sample service composition root, runnable: `node --import tsx packages/runtime/examples/main.ts`.
 * Load config → logger → adapters → lifecycle → ops server → signals. Only this file touches
 * `process`; everything it wires up takes its dependencies as parameters.
 */
import { Type } from '@sinclair/typebox';
import {
  ConfigError,
  createLifecycle,
  createLogger,
  createMetricsRegistry,
  defineMetrics,
  installSignalHandlers,
  loadConfig,
  redact,
  secretKeys,
  startOpsServer,
  type OpsServer,
} from '@offsite/runtime';

const Env = Type.Object({
  OFFSITE_LOG_LEVEL: Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn')], {
    default: 'info',
  }),
  OFFSITE_LOG_PRETTY: Type.Boolean({ default: false }),
  OFFSITE_OPS_HOST: Type.String({ default: '127.0.0.1' }),
  OFFSITE_OPS_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 9464 }),
  OFFSITE_SHUTDOWN_DEADLINE_MS: Type.Integer({ minimum: 100, default: 25_000 }),
  OFFSITE_STEP_DEADLINE_MS: Type.Integer({ minimum: 10, default: 10_000 }),
  OFFSITE_DEMO_TOKEN: Type.Optional(Type.String({ minLength: 8, secret: true })),
  // Demo only: make the "worker" hang on stop, to watch the step deadline and the second signal.
  OFFSITE_DEMO_HANG_ON_STOP: Type.Boolean({ default: false }),
});

// 1. Config, validated once; every problem reported at once, then exit non-zero (78 = EX_CONFIG).
let config;
try {
  config = loadConfig(Env, process.env, {
    checks: [
      {
        variables: ['OFFSITE_STEP_DEADLINE_MS', 'OFFSITE_SHUTDOWN_DEADLINE_MS'],
        check: (c) =>
          c.OFFSITE_STEP_DEADLINE_MS <= c.OFFSITE_SHUTDOWN_DEADLINE_MS
            ? undefined
            : 'a step cannot outlast the whole shutdown',
      },
    ],
  });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(78);
}

// 2. Logger; the config is logged with its secrets redacted.
const logger = createLogger({
  service: 'sample',
  level: config.OFFSITE_LOG_LEVEL,
  pretty: config.OFFSITE_LOG_PRETTY,
});
logger.info({ config: redact(config, secretKeys(Env)) }, 'configuration loaded');

// 3. Metrics and adapters (here a fake worker standing in for a Kafka consumer).
const registry = createMetricsRegistry({ defaultMetrics: true, defaultLabels: { service: 'sample' } });
const metrics = defineMetrics(registry, {
  ticks: { type: 'counter', name: 'offsite_sample_ticks_total', help: 'Work loop iterations' },
});
let timer: NodeJS.Timeout | undefined;
const worker = {
  name: 'worker',
  start: () => {
    timer = setInterval(() => metrics.ticks.inc(), 100);
  },
  stop: () => {
    if (config.OFFSITE_DEMO_HANG_ON_STOP) return new Promise<void>(() => undefined);
    clearInterval(timer);
  },
  check: () => timer !== undefined,
};

// 4. Lifecycle: ops server first (so it stops last and /livez answers throughout), intake last.
const lifecycle = createLifecycle({
  logger,
  shutdownDeadlineMs: config.OFFSITE_SHUTDOWN_DEADLINE_MS,
  stepDeadlineMs: config.OFFSITE_STEP_DEADLINE_MS,
});
let ops: OpsServer | undefined;
lifecycle.register({
  name: 'ops-server',
  start: async () => {
    ops = await startOpsServer({
      host: config.OFFSITE_OPS_HOST,
      port: config.OFFSITE_OPS_PORT,
      registry,
      checks: () => lifecycle.healthChecks(),
      logger,
    });
  },
  stop: () => ops?.close(),
});
lifecycle.register(worker);

// 5. Signals, then run until shut down; the exit code tells the truth.
installSignalHandlers(lifecycle, process);
const exitCode = await lifecycle.run();
process.exit(exitCode);
