/** Component health checks, as evaluated for `/readyz`. */
import { withTimeout } from './deadline.js';
import { errorMessage } from './errors.js';

export interface HealthStatus {
  readonly healthy: boolean;
  /** Short reason, shown in /readyz when unhealthy ("kafka producer disconnected"). */
  readonly detail?: string;
}

export interface HealthCheck {
  readonly name: string;
  /** Must be cheap: it runs on every /readyz request. A throw or a timeout counts as unhealthy. */
  check(): HealthStatus | boolean | Promise<HealthStatus | boolean>;
}

export interface ComponentHealth {
  readonly name: string;
  readonly healthy: boolean;
  readonly detail?: string;
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly components: readonly ComponentHealth[];
  /** Names of the unhealthy components. */
  readonly failing: readonly string[];
}

/** Runs every check concurrently, each bounded by `timeoutMs`. */
export async function evaluateHealth(
  checks: readonly HealthCheck[],
  timeoutMs: number,
): Promise<ReadinessReport> {
  const components = await Promise.all(
    checks.map(async (check): Promise<ComponentHealth> => {
      try {
        const result = await withTimeout(
          Promise.resolve().then(() => check.check()),
          timeoutMs,
          `health check ${check.name}`,
        );
        const status = typeof result === 'boolean' ? { healthy: result } : result;
        return status.detail === undefined
          ? { name: check.name, healthy: status.healthy }
          : { name: check.name, healthy: status.healthy, detail: status.detail };
      } catch (error) {
        return { name: check.name, healthy: false, detail: errorMessage(error) };
      }
    }),
  );
  const failing = components.filter((c) => !c.healthy).map((c) => c.name);
  return { ready: failing.length === 0, components, failing };
}
