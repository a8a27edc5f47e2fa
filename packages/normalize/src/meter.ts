/**
 * Energy-meter JSON payloads (`meter-energy.v1`, `meter-status.v1`, as published on MQTT) plus the
 * meter's registry identity → `telemetry.v1`. The enterprise and meter come from the topic (which the
 * broker ACL authenticates), never from the payload. Pure.
 */
import {
  isCanonicalUtc,
  telemetryEventId,
  validateMeterEnergyV1,
  validateMeterStatusV1,
  type Measurement,
  type TelemetryV1,
} from '@offsite/contracts';
import type { NormalizeResult } from './result.js';

export interface MeterContext {
  readonly enterpriseId: string;
  readonly meterId: string;
  /** Ingestor that received the payload. Default `mqtt`. */
  readonly source?: TelemetryV1['source'];
  readonly rawRef?: string;
  /** When the ingestor received the payload: ISO 8601 UTC. */
  readonly receivedAt: string;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

function badId(name: string, value: string): NormalizeResult | null {
  if (value.length <= 128 && ID.test(value)) return null;
  return {
    ok: false,
    kind: 'invalid',
    reason: 'invalid-id',
    message: `${name} "${value.slice(0, 40)}" is not a valid id`,
  };
}

// Called once per meter message: no arrays or closures on the happy path.
const checkIds = (meter: MeterContext): NormalizeResult | null =>
  badId('enterpriseId', meter.enterpriseId) ?? badId('meterId', meter.meterId);

function toUtc(ts: string): string | null {
  // Meters usually send the canonical form already (toISOString): no Date needed then.
  if (isCanonicalUtc(ts)) return ts;
  const ms = Date.parse(ts);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

function build(
  meter: MeterContext,
  kind: TelemetryV1['kind'],
  dataTime: string,
  measurements: Measurement[],
): TelemetryV1 {
  const interval = 'realtime' as const;
  const id = { enterpriseId: meter.enterpriseId, deviceId: meter.meterId, kind, interval, dataTime };
  const event: TelemetryV1 = {
    schema: 'telemetry.v1',
    eventId: telemetryEventId(id),
    enterpriseId: meter.enterpriseId,
    siteId: meter.meterId,
    deviceId: meter.meterId,
    source: meter.source ?? 'mqtt',
    kind,
    interval,
    dataTime,
    receivedAt: meter.receivedAt,
    irregularities: [],
    measurements,
  };
  if (meter.rawRef === undefined) return event;
  // rawRef sits before irregularities in the JSON, as it always did.
  const { irregularities, measurements: ms, ...head } = event;
  return { ...head, rawRef: meter.rawRef, irregularities, measurements: ms };
}

/** A `meter-energy.v1` payload (already parsed from JSON) → an `energy` reading. */
export function normalizeMeterEnergy(payload: unknown, meter: MeterContext): NormalizeResult {
  const bad = checkIds(meter);
  if (bad) return bad;
  const v = validateMeterEnergyV1(payload);
  if (!v.ok) {
    return {
      ok: false,
      kind: 'invalid',
      reason: 'schema-invalid',
      message: 'not a meter-energy.v1 payload',
      details: v.errors,
    };
  }
  const p = v.value;
  const dataTime = toUtc(p.ts);
  if (dataTime === null)
    return {
      ok: false,
      kind: 'invalid',
      reason: 'invalid-time',
      message: `ts "${p.ts.slice(0, 40)}" is not a time`,
    };
  const measurements: Measurement[] = [
    { factor: 'energy_kwh', stat: 'Cou', value: p.energyKwh, unit: 'kWh' },
    { factor: 'power_kw', stat: 'Rtd', value: p.powerKw, unit: 'kW' },
  ];
  if (p.currentA !== undefined)
    measurements.push({ factor: 'current_a', stat: 'Rtd', value: p.currentA, unit: 'A' });
  measurements.push({ factor: 'running', stat: 'Value', value: p.status === 'running' ? 1 : 0 });
  return { ok: true, event: build(meter, 'energy', dataTime, measurements) };
}

/**
 * A `meter-status.v1` payload → a `status` reading with `online` = 1 or 0. A last-will message has
 * no `ts`; its data time is then the time it was received (so its event id is not replay-stable).
 */
export function normalizeMeterStatus(payload: unknown, meter: MeterContext): NormalizeResult {
  const bad = checkIds(meter);
  if (bad) return bad;
  const v = validateMeterStatusV1(payload);
  if (!v.ok) {
    return {
      ok: false,
      kind: 'invalid',
      reason: 'schema-invalid',
      message: 'not a meter-status.v1 payload',
      details: v.errors,
    };
  }
  const p = v.value;
  const dataTime = toUtc(p.ts ?? meter.receivedAt);
  if (dataTime === null)
    return { ok: false, kind: 'invalid', reason: 'invalid-time', message: `ts is not a time` };
  return {
    ok: true,
    event: build(meter, 'status', dataTime, [
      { factor: 'online', stat: 'Value', value: p.state === 'online' ? 1 : 0 },
    ]),
  };
}
