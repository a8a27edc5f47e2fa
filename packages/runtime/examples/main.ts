/**
 * A sample service composition root, runnable: `node --conditions=offsite-source --import tsx packages/runtime/examples/main.ts`.
 * Load config → logger → adapters → lifecycle → ops server → signals. Only this file touches
 * `process`; everything it wires up takes its dependencies as parameters. `bootService` does the
 * part every service shares (config with exit 78, logger, metrics registry, lifecycle with the ops
 * server first, signals and the exit code); the service adds its adapters and components.
 */
import { Type } from '@sinclair/typebox';
import { bootService, defineMetrics } from '@offsite/runtime';

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

// 1. Config (every problem reported at once, then exit 78 = EX_CONFIG), logger with the config logged
// redacted, metrics registry, lifecycle whose first component is the ops server.
const {
  env: config,
  registry,
  lifecycle,
  run,
} = bootService({
  name: 'sample',
  schema: Env,
  process,
  config: {
    checks: [
      {
        variables: ['OFFSITE_STEP_DEADLINE_MS', 'OFFSITE_SHUTDOWN_DEADLINE_MS'],
        check: (c) =>
          c.OFFSITE_STEP_DEADLINE_MS <= c.OFFSITE_SHUTDOWN_DEADLINE_MS
            ? undefined
            : 'a step cannot outlast the whole shutdown',
      },
    ],
  },
  stepDeadlineMs: (c) => c.OFFSITE_STEP_DEADLINE_MS,
});

// 2. Metrics and adapters (here a fake worker standing in for a Kafka consumer).
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

// 3. Components after the ops server (so it stops last and /livez answers throughout), intake last.
lifecycle.register(worker);

// 4. Signals, then run until shut down; the exit code tells the truth.
await run();
