import { hash } from 'node:crypto';
import type { DeviationV1 } from './generated/deviation.v1.js';
import type { TelemetryV1 } from './generated/telemetry.v1.js';

const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** `d` digits of `s` from `at` as a number, or -1 when one is not a digit. */
function digits(s: string, at: number, d: number): number {
  let n = 0;
  for (let i = at; i < at + d; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/**
 * True when `s` is already what `new Date(Date.parse(s)).toISOString()` returns for it
 * (`YYYY-MM-DDTHH:MM:SS.mmmZ`, every field in range): the common case of a time an ingestor just
 * canonicalised, answered without a Date.
 */
export function isCanonicalUtc(s: string): boolean {
  if (s.length !== 24) return false;
  if (s[4] !== '-' || s[7] !== '-' || s[10] !== 'T' || s[13] !== ':' || s[16] !== ':') return false;
  if (s[19] !== '.' || s[23] !== 'Z') return false;
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > DAYS[mo - 1]!) return false;
  if (mo === 2 && d === 29 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0))) return false;
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  const se = digits(s, 17, 2);
  return h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && se >= 0 && se <= 59 && digits(s, 20, 3) >= 0;
}

/** Canonical UTC form of a timestamp so `…00Z` and `…00.000Z` hash alike; throws on an invalid time. */
function canonicalTime(iso: string): string {
  if (isCanonicalUtc(iso)) return iso;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new RangeError(`not a valid ISO 8601 time: ${JSON.stringify(iso)}`);
  return new Date(ms).toISOString();
}

// One-shot crypto.hash (Node >= 20.12): the same digest as createHash().update().digest('hex')
// without a Hash object per call (the telemetry id is computed once per reading on the ingest path).
function digest(parts: readonly (string | number | null)[]): string {
  return hash('sha256', JSON.stringify(parts), 'hex');
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
