// The part of every service's composition root that is the same everywhere: configuration (exit 78
// with every problem listed), the logger with the configuration logged redacted, the metrics
// registry, the lifecycle with the ops server as its first component (it starts first and stops
// last, so /livez answers throughout), then signals and a truthful exit code. The service adds its
// own adapters and components between `bootService()` and `run()`. `process` is a parameter, so
// this package still touches no global process state by itself.
import type { Static, TObject } from '@sinclair/typebox';
import {
  ConfigError,
  loadConfig,
  redact,
  secretKeys,
  type DeepReadonly,
  type Environment,
  type LoadConfigOptions,
} from './config.js';
import { createLifecycle, installSignalHandlers, type Lifecycle, type SignalProcess } from './lifecycle.js';
import { createLogger, type LogLevel, type Logger } from './logger.js';
import { createMetricsRegistry, type Registry } from './metrics.js';
import { startOpsServer, type OpsServer } from './ops-server.js';

/** The variables bootService reads; every service's env schema has them. */
export interface ServiceBaseEnv {
  OFFSITE_LOG_LEVEL: LogLevel;
  OFFSITE_LOG_PRETTY?: boolean;
  OFFSITE_OPS_HOST: string;
  OFFSITE_OPS_PORT: number;
  OFFSITE_SHUTDOWN_DEADLINE_MS: number;
}

/** What bootService needs of `process`. */
export interface ServiceProcess extends SignalProcess {
  env: Environment;
  stderr: { write(text: string): unknown };
  exit(code: number): never;
}

/**
 * What a service's configuration is: its name, its environment schema and the options (cross-checks,
 * X_FILE handling) it is loaded with. Each service exports one from its config module, so that
 * bootService and `offsite config check` validate the same thing.
 */
export interface ServiceConfig<T extends TObject> {
  /** Service name: the logger's `service` field and the metrics' `service` label. */
  name: string;
  schema: T;
  config?: LoadConfigOptions<Static<T>>;
}

export interface BootServiceOptions<T extends TObject> extends ServiceConfig<T> {
  process: ServiceProcess;
  /** Default bound on one stop step (see createLifecycle), from the loaded configuration. */
  stepDeadlineMs?: (env: DeepReadonly<Static<T>>) => number;
}

export interface ServiceKit<E> {
  env: E;
  logger: Logger;
  registry: Registry;
  lifecycle: Lifecycle;
  /** Installs SIGTERM/SIGINT handling, runs the lifecycle to its end and exits with its code. */
  run(): Promise<never>;
}

/** Exit code for a configuration error (sysexits EX_CONFIG). */
export const EXIT_CONFIG = 78;

export function bootService<T extends TObject>(
  options: BootServiceOptions<T> & (Static<T> extends ServiceBaseEnv ? unknown : never),
): ServiceKit<DeepReadonly<Static<T>>> {
  const proc = options.process;
  let env: DeepReadonly<Static<T>>;
  try {
    env = loadConfig(options.schema, proc.env, options.config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    proc.stderr.write(`${error.message}\n`);
    return proc.exit(EXIT_CONFIG);
  }
  const base = env as unknown as ServiceBaseEnv;
  const logger = createLogger({
    service: options.name,
    level: base.OFFSITE_LOG_LEVEL,
    ...(base.OFFSITE_LOG_PRETTY !== undefined ? { pretty: base.OFFSITE_LOG_PRETTY } : {}),
  });
  logger.info({ config: redact(env, secretKeys(options.schema)) }, 'configuration loaded');
  const registry = createMetricsRegistry({ defaultMetrics: true, defaultLabels: { service: options.name } });
  const lifecycle = createLifecycle({
    logger,
    shutdownDeadlineMs: base.OFFSITE_SHUTDOWN_DEADLINE_MS,
    ...(options.stepDeadlineMs ? { stepDeadlineMs: options.stepDeadlineMs(env) } : {}),
  });
  let ops: OpsServer | undefined;
  lifecycle.register({
    name: 'ops-server',
    start: async () => {
      ops = await startOpsServer({
        host: base.OFFSITE_OPS_HOST,
        port: base.OFFSITE_OPS_PORT,
        registry,
        checks: () => lifecycle.healthChecks(),
        logger,
      });
    },
    stop: () => ops?.close(),
  });
  return {
    env,
    logger,
    registry,
    lifecycle,
    run: async () => {
      installSignalHandlers(lifecycle, proc);
      return proc.exit(await lifecycle.run());
    },
  };
}
