import { createHash } from 'node:crypto';
import type { DeviationV1 } from './generated/deviation.v1.js';
import type { TelemetryV1 } from './generated/telemetry.v1.js';

/** Canonical UTC form of a timestamp so `…00Z` and `…00.000Z` hash alike; throws on an invalid time. */
function canonicalTime(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new RangeError(`not a valid ISO 8601 time: ${JSON.stringify(iso)}`);
  return new Date(ms).toISOString();
}

function digest(parts: readonly (string | number | null)[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/**
 * Deterministic deviation id: hash of enterprise, site, rule and window start (domain-rules §3),
 * so a replay of the same data yields the same id.
 */
export function deviationId(
  d: Pick<DeviationV1, 'enterpriseId' | 'siteId' | 'rule' | 'windowStart'> & { factor?: string | undefined },
): string {
  // The factor is part of the identity for factor-specific rules (SO2 and NOx exceedances are distinct).
  return `dev-${digest([d.enterpriseId, d.siteId, d.rule, d.factor ?? null, canonicalTime(d.windowStart)])}`;
}

/** Deterministic telemetry event id: the same reading from a replayed packet gets the same id. */
export function telemetryEventId(
  t: Pick<TelemetryV1, 'enterpriseId' | 'deviceId' | 'kind' | 'interval' | 'periodSeconds' | 'dataTime'>,
): string {
  return `tel-${digest([t.enterpriseId, t.deviceId, t.kind, t.interval, t.periodSeconds ?? null, canonicalTime(t.dataTime)])}`;
}
