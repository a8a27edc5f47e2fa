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
  /**
   * False: the check is reported (in `degraded` while unhealthy) but never makes the service unready — for a
   * part whose outage must not take the service out of its load balancer, such as a background consumer.
   */
  readonly gatesReadiness?: boolean;
  /** Must be cheap: it runs on every /readyz request. A throw or a timeout counts as unhealthy. */
  check(): HealthStatus | boolean | Promise<HealthStatus | boolean>;
}

export interface ComponentHealth {
  readonly name: string;
  readonly healthy: boolean;
  readonly detail?: string;
  /** Present (false) only for a check that does not gate readiness. */
  readonly gatesReadiness?: false;
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly components: readonly ComponentHealth[];
  /** Names of the unhealthy components that gate readiness. */
  readonly failing: readonly string[];
  /** Names of the unhealthy components that do not gate readiness. */
  readonly degraded: readonly string[];
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
        return health(check, status.healthy, status.detail);
      } catch (error) {
        return health(check, false, errorMessage(error));
      }
    }),
  );
  const unhealthy = (gates: boolean) =>
    components.filter((c) => !c.healthy && (c.gatesReadiness ?? true) === gates).map((c) => c.name);
  const failing = unhealthy(true);
  return { ready: failing.length === 0, components, failing, degraded: unhealthy(false) };
}

function health(check: HealthCheck, healthy: boolean, detail: string | undefined): ComponentHealth {
  return {
    name: check.name,
    healthy,
    ...(detail === undefined ? {} : { detail }),
    ...(check.gatesReadiness === false ? { gatesReadiness: false as const } : {}),
  };
}
