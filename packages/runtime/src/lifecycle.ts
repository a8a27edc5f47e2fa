/**
 * Ordered start and deadline-bounded shutdown of a service's components.
 *
 * Components are registered in dependency order (ops server, clients, then the things that take
 * intake last). `start()` starts them in that order; `shutdown()` stops the started ones in reverse,
 * so intake stops first and the connections it writes through close last. Every step has its own
 * deadline and the whole shutdown has a global one: a `stop()` that hangs is abandoned (its
 * AbortSignal fires), logged as an error and the next step runs. The exit code tells the truth:
 * 0 only if everything started and stopped cleanly.
 */
import { constants } from 'node:os';
import { DeadlineExceededError, withTimeout } from './deadline.js';
import { errorCode, errorMessage, OffsiteError } from './errors.js';
import type { HealthCheck, HealthStatus } from './health.js';
import type { Logger } from './logger.js';

export interface Component {
  /** Unique within the lifecycle; used in logs and /readyz. */
  readonly name: string;
  /** Connect, subscribe, listen… The signal aborts if shutdown begins or the start deadline passes. */
  start?(signal: AbortSignal): Promise<void> | void;
  /** Stop intake, drain, flush, close. The signal aborts when the step's deadline passes. */
  stop?(signal: AbortSignal): Promise<void> | void;
  /** Readiness of this component, reported by /readyz while the lifecycle runs. */
  check?(): HealthStatus | boolean | Promise<HealthStatus | boolean>;
  /** False: `check` is reported by /readyz but never makes the service unready (see `HealthCheck`). */
  readonly gatesReadiness?: boolean;
  /** Overrides the lifecycle's per-step deadlines for this component. */
  readonly startTimeoutMs?: number;
  readonly stopTimeoutMs?: number;
}

export interface LifecycleOptions {
  logger: Logger;
  /** Global bound on the whole shutdown. */
  shutdownDeadlineMs: number;
  /** Default bound on one stop step; default min(10 s, shutdownDeadlineMs). */
  stepDeadlineMs?: number;
  /** Default bound on one start step; default 30 s. */
  startDeadlineMs?: number;
  /** Clock for the global deadline arithmetic; Date.now by default. */
  now?: () => number;
}

export type LifecycleState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

export type LifecycleErrorCode =
  | 'LIFECYCLE_START_FAILED'
  | 'LIFECYCLE_START_INTERRUPTED'
  | 'LIFECYCLE_ALREADY_STARTED'
  | 'LIFECYCLE_DUPLICATE_COMPONENT';

export class LifecycleError extends OffsiteError<LifecycleErrorCode> {}

export interface StepFailure {
  readonly component: string;
  readonly phase: 'start' | 'stop';
  readonly code: string;
  readonly message: string;
}

export interface ShutdownResult {
  /** 0 when every step succeeded and shutdown was not caused by an error; 1 otherwise. */
  readonly exitCode: 0 | 1;
  readonly reason: string;
  readonly failures: readonly StepFailure[];
  readonly durationMs: number;
}

export interface ShutdownOptions {
  /** The error that caused the shutdown (a component crashed): the exit code becomes 1. */
  error?: unknown;
}

export interface Lifecycle {
  readonly state: LifecycleState;
  readonly logger: Logger;
  /** Adds a component; only before start. Returns the lifecycle for chaining. */
  register(component: Component): Lifecycle;
  /**
   * Starts every component in order. If one fails, the started ones are stopped in reverse and
   * this rejects with LIFECYCLE_START_FAILED; if shutdown began meanwhile, LIFECYCLE_START_INTERRUPTED.
   */
  start(): Promise<void>;
  /** Starts, then waits until shutdown completes; resolves to the process exit code. */
  run(): Promise<number>;
  /** Begins (or joins) the shutdown. Idempotent: later calls return the same result. */
  shutdown(reason: string, options?: ShutdownOptions): Promise<ShutdownResult>;
  /** True only while running: false during start and from the moment shutdown begins. */
  isReady(): boolean;
  /** A `lifecycle` check (ready only while running) followed by every component's own check. */
  healthChecks(): HealthCheck[];
}

export function createLifecycle(options: LifecycleOptions): Lifecycle {
  const logger = options.logger.child({ component: 'lifecycle' });
  const now = options.now ?? Date.now;
  const stepDeadlineMs = options.stepDeadlineMs ?? Math.min(10_000, options.shutdownDeadlineMs);
  const startDeadlineMs = options.startDeadlineMs ?? 30_000;

  const components: Component[] = [];
  const started: Component[] = [];
  const failures: StepFailure[] = [];
  const startAbort = new AbortController();
  let state: LifecycleState = 'created';
  let inFlightStart: Promise<void> | undefined;
  let shutdownPromise: Promise<ShutdownResult> | undefined;
  let resolveDone!: (result: ShutdownResult) => void;
  const done = new Promise<ShutdownResult>((resolve) => {
    resolveDone = resolve;
  });

  const fail = (component: string, phase: 'start' | 'stop', error: unknown): void => {
    failures.push({ component, phase, code: errorCode(error), message: errorMessage(error) });
  };

  async function startOne(component: Component): Promise<void> {
    const ms = component.startTimeoutMs ?? startDeadlineMs;
    const began = now();
    await withTimeout(
      (deadline) => component.start?.(AbortSignal.any([deadline, startAbort.signal])),
      ms,
      `start ${component.name}`,
    );
    started.push(component);
    logger.info({ step: component.name, durationMs: now() - began }, 'component started');
  }

  async function stopAll(reason: string, cause: unknown): Promise<ShutdownResult> {
    const began = now();
    const deadlineAt = began + options.shutdownDeadlineMs;
    const previous = state;
    state = 'stopping';
    startAbort.abort(new LifecycleError('LIFECYCLE_START_INTERRUPTED', `shutdown began: ${reason}`));
    if (cause === undefined) logger.info({ reason, from: previous }, 'shutdown began');
    else logger.error({ reason, from: previous, err: cause }, 'shutdown began after an error');

    if (inFlightStart) {
      // A component is still starting: let it settle (its start signal is aborted) so it gets stopped too.
      try {
        await withTimeout(inFlightStart, Math.max(0, deadlineAt - now()), 'in-flight start');
      } catch (error) {
        logger.error({ err: error }, 'a component was still starting at the shutdown deadline; abandoned');
        fail('(starting)', 'stop', error);
      }
    }

    for (const component of [...started].reverse()) {
      if (!component.stop) continue;
      const remaining = deadlineAt - now();
      if (remaining <= 0) {
        const error = new DeadlineExceededError(
          `shutdown (before stopping ${component.name})`,
          options.shutdownDeadlineMs,
        );
        fail(component.name, 'stop', error);
        logger.error(
          { step: component.name, err: error },
          'global shutdown deadline passed; component not stopped',
        );
        continue;
      }
      const ms = Math.min(component.stopTimeoutMs ?? stepDeadlineMs, remaining);
      const stepBegan = now();
      try {
        await withTimeout((signal) => component.stop?.(signal), ms, `stop ${component.name}`);
        logger.info({ step: component.name, durationMs: now() - stepBegan }, 'component stopped');
      } catch (error) {
        fail(component.name, 'stop', error);
        const message =
          error instanceof DeadlineExceededError
            ? 'stop step exceeded its deadline; abandoned'
            : 'stop step failed; continuing with the next';
        logger.error({ step: component.name, err: error, deadlineMs: ms }, message);
      }
    }

    state = 'stopped';
    const result: ShutdownResult = {
      exitCode: cause === undefined && failures.length === 0 ? 0 : 1,
      reason,
      failures: [...failures],
      durationMs: now() - began,
    };
    if (result.exitCode === 0) logger.info({ durationMs: result.durationMs }, 'shutdown complete');
    else
      logger.error(
        { durationMs: result.durationMs, failures: result.failures },
        'shutdown complete with failures',
      );
    resolveDone(result);
    return result;
  }

  const lifecycle: Lifecycle = {
    get state() {
      return state;
    },
    logger: options.logger,

    register(component) {
      if (state !== 'created') {
        throw new LifecycleError(
          'LIFECYCLE_ALREADY_STARTED',
          `cannot register ${component.name}: lifecycle is ${state}`,
        );
      }
      if (components.some((c) => c.name === component.name)) {
        throw new LifecycleError(
          'LIFECYCLE_DUPLICATE_COMPONENT',
          `component ${component.name} is already registered`,
        );
      }
      components.push(component);
      return lifecycle;
    },

    async start() {
      if (state !== 'created') {
        throw new LifecycleError('LIFECYCLE_ALREADY_STARTED', `cannot start: lifecycle is ${state}`);
      }
      state = 'starting';
      logger.info({ components: components.map((c) => c.name) }, 'starting');
      for (const component of components) {
        if (shutdownPromise) break;
        const step = startOne(component);
        inFlightStart = step.catch(() => undefined);
        try {
          await step;
        } catch (error) {
          inFlightStart = undefined;
          fail(component.name, 'start', error);
          logger.error({ step: component.name, err: error }, 'component failed to start');
          if (!shutdownPromise) {
            await lifecycle.shutdown(`start of ${component.name} failed`, { error });
          }
          throw new LifecycleError('LIFECYCLE_START_FAILED', `component ${component.name} failed to start`, {
            cause: error,
          });
        }
        inFlightStart = undefined;
      }
      if (shutdownPromise) {
        throw new LifecycleError(
          'LIFECYCLE_START_INTERRUPTED',
          'shutdown began before every component started',
        );
      }
      state = 'running';
      logger.info({}, 'all components started');
    },

    async run() {
      try {
        await lifecycle.start();
      } catch (error) {
        if (!shutdownPromise) throw error;
      }
      return (await done).exitCode;
    },

    shutdown(reason, shutdownOptions = {}) {
      if (shutdownPromise) {
        logger.debug({ reason }, 'shutdown already in progress');
        return shutdownPromise;
      }
      shutdownPromise = stopAll(reason, shutdownOptions.error);
      return shutdownPromise;
    },

    isReady() {
      return state === 'running';
    },

    healthChecks() {
      const own: HealthCheck = {
        name: 'lifecycle',
        check: () =>
          state === 'running'
            ? { healthy: true }
            : { healthy: false, detail: state === 'stopping' ? 'shutting down' : state },
      };
      const fromComponents = components.flatMap((component): HealthCheck[] => {
        const check = component.check?.bind(component);
        if (!check) return [];
        return component.gatesReadiness === false
          ? [{ name: component.name, check, gatesReadiness: false }]
          : [{ name: component.name, check }];
      });
      return [own, ...fromComponents];
    },
  };
  return lifecycle;
}

/** The part of `process` that installSignalHandlers uses, so tests can pass a fake. */
export interface SignalProcess {
  on(event: 'SIGTERM' | 'SIGINT' | 'SIGHUP' | 'SIGQUIT', listener: () => void): unknown;
  exit(code: number): unknown;
}

export interface SignalHandlerOptions {
  signals?: readonly ('SIGTERM' | 'SIGINT' | 'SIGHUP' | 'SIGQUIT')[];
  logger?: Logger;
}

/**
 * Called only from a service's main.ts. The first SIGTERM/SIGINT starts a graceful shutdown and
 * exits with its truthful code (0 clean, 1 if a step failed or timed out); a second signal exits at
 * once with 128 + the signal number (130 for SIGINT, 143 for SIGTERM).
 */
export function installSignalHandlers(
  lifecycle: Lifecycle,
  proc: SignalProcess,
  options: SignalHandlerOptions = {},
): void {
  const logger = (options.logger ?? lifecycle.logger).child({ component: 'signals' });
  let first: string | undefined;
  for (const signal of options.signals ?? ['SIGTERM', 'SIGINT']) {
    proc.on(signal, () => {
      if (first !== undefined) {
        const code = 128 + constants.signals[signal];
        logger.error({ signal, first, exitCode: code }, 'second signal during shutdown; exiting at once');
        proc.exit(code);
        return;
      }
      first = signal;
      logger.warn({ signal }, 'signal received; shutting down gracefully (send it again to exit at once)');
      lifecycle.shutdown(`signal ${signal}`).then(
        (result) => proc.exit(result.exitCode),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown threw');
          proc.exit(1);
        },
      );
    });
  }
}
