/** Ingest payloads (HJ 212 packets, meter JSON) → canonical `telemetry.v1` readings. Pure. */
export { DEFAULT_MINUTE_INTERVAL_S, MAX_MEASUREMENTS, normalizeHj212, TELEMETRY_CNS } from './hj212.js';
export type { Hj212DeviceContext } from './hj212.js';
export { normalizeMeterEnergy, normalizeMeterStatus } from './meter.js';
export type { MeterContext } from './meter.js';
export type { InvalidReason, NormalizeResult, NotTelemetryReason } from './result.js';
export { unitFor } from './units.js';
