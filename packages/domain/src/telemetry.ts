// A `telemetry.v1` record (schemas/telemetry.v1.schema.json, already validated) as the engine's Reading: the analyzer
// and `offsite analyze` both feed the engine through this one mapping.
import type { TelemetryV1 } from '@offsite/contracts';
import type { Reading } from './model.js';

export function readingFromTelemetry(t: TelemetryV1): Reading {
  return {
    eventId: t.eventId,
    enterpriseId: t.enterpriseId,
    siteId: t.siteId,
    deviceId: t.deviceId,
    kind: t.kind,
    interval: t.interval,
    ...(t.periodSeconds !== undefined ? { periodSeconds: t.periodSeconds } : {}),
    dataTime: Date.parse(t.dataTime),
    measurements: t.measurements.map((m) => ({
      factor: m.factor,
      stat: m.stat,
      value: m.value,
      ...(m.unit !== undefined ? { unit: m.unit } : {}),
      ...(m.flag !== undefined ? { flag: m.flag } : {}),
    })),
  };
}
