/**
 * Decoded HJ 212 packet + the device's registry entry → one canonical `telemetry.v1` reading.
 * Pure: no I/O, no clock (the caller passes `receivedAt`).
 */
import { telemetryEventId, type Measurement, type TelemetryV1 } from '@offsite/contracts';
import { classifyPacket, type Packet } from '@offsite/hj212';
import type { NormalizeResult } from './result.js';
import { unitFor } from './units.js';

/** What the ingestor knows about the device that sent the packet (from the registry). */
export interface Hj212DeviceContext {
  readonly enterpriseId: string;
  /** Outlet id (or site id) the data logger monitors. */
  readonly siteId: string;
  /** The device id; normally the packet's MN as found in the registry. */
  readonly deviceId: string;
  /** The device's minute-data cadence (2051), seconds. Default 600. */
  readonly minuteIntervalS?: number;
  /** Ingestor that received the packet. Default `hj212`. */
  readonly source?: TelemetryV1['source'];
  /** Reference to the archived raw packet (`hj212.raw.v1` id, or topic/partition/offset). */
  readonly rawRef?: string;
  /** When the ingestor received the packet: ISO 8601 UTC. */
  readonly receivedAt: string;
}

interface CnShape {
  readonly kind: TelemetryV1['kind'];
  readonly interval: TelemetryV1['interval'];
}

/**
 * Data-upload command codes that carry readings. 2041 (daily facility running time, `SBxxx-RT`) and
 * 2021/2081 (facility status, data-logger events) are `status`; the rest are `emission`.
 */
export const TELEMETRY_CNS: Readonly<Record<string, CnShape>> = Object.freeze({
  '2011': { kind: 'emission', interval: 'realtime' },
  '2051': { kind: 'emission', interval: 'minute' },
  '2061': { kind: 'emission', interval: 'hour' },
  '2031': { kind: 'emission', interval: 'day' },
  '2041': { kind: 'status', interval: 'day' },
  '2021': { kind: 'status', interval: 'realtime' },
  '2081': { kind: 'status', interval: 'realtime' },
});

export const DEFAULT_MINUTE_INTERVAL_S = 600;
/** The contract's limit on measurements per reading. */
export const MAX_MEASUREMENTS = 1000;

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const FACTOR = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const DATA_FLAG = /^[A-Za-z][A-Za-z0-9]{0,7}$/;
const QN = /^[0-9]{17}$/;
const ST = /^[0-9]{1,3}$/;
const CN = /^[0-9]{1,4}$/;

export function normalizeHj212(packet: Packet, device: Hj212DeviceContext): NormalizeResult {
  const shape = TELEMETRY_CNS[packet.cn];
  if (!shape || classifyPacket(packet) !== 'upload') {
    return {
      ok: false,
      kind: 'not-telemetry',
      reason: 'not-data-upload',
      message: `CN ${packet.cn} is not a data upload that carries readings`,
    };
  }
  if (packet.dataTimeUtc === null) {
    return {
      ok: false,
      kind: 'invalid',
      reason: 'missing-datatime',
      message: `CN ${packet.cn} without DataTime`,
    };
  }
  for (const [name, value] of [
    ['enterpriseId', device.enterpriseId],
    ['siteId', device.siteId],
    ['deviceId', device.deviceId],
  ] as const) {
    if (!ID.test(value) || value.length > 128) {
      return {
        ok: false,
        kind: 'invalid',
        reason: 'invalid-id',
        message: `${name} "${value.slice(0, 40)}" is not a valid id`,
      };
    }
  }
  if (!ST.test(packet.st) || !CN.test(packet.cn)) {
    return {
      ok: false,
      kind: 'invalid',
      reason: 'invalid-header',
      message: `ST "${packet.st.slice(0, 8)}" or CN is not numeric`,
    };
  }

  const irregularities = new Set<string>(packet.irregularities);
  const measurements: Measurement[] = [];
  for (const v of packet.values) {
    if (!FACTOR.test(v.code) || v.code.length > 64) {
      return {
        ok: false,
        kind: 'invalid',
        reason: 'invalid-factor',
        message: `factor code "${v.code.slice(0, 40)}" is not valid`,
      };
    }
    const m: Measurement = { factor: v.code, stat: v.stat, value: v.value };
    if (v.originalCode !== undefined) m.originalFactor = v.originalCode;
    const unit = unitFor(v.code, v.stat);
    if (unit !== undefined) m.unit = unit;
    const flag = packet.flags[v.code];
    if (flag !== undefined) {
      if (DATA_FLAG.test(flag)) m.flag = flag;
      else irregularities.add('data-flag-malformed');
    }
    measurements.push(m);
  }
  if (measurements.length === 0) {
    return {
      ok: false,
      kind: 'not-telemetry',
      reason: 'no-measurements',
      message: `CN ${packet.cn} carries no numeric values`,
    };
  }
  if (measurements.length > MAX_MEASUREMENTS) {
    return {
      ok: false,
      kind: 'invalid',
      reason: 'too-many-measurements',
      message: `${measurements.length} values in one packet (at most ${MAX_MEASUREMENTS})`,
    };
  }

  const periodSeconds =
    shape.interval === 'minute'
      ? (validPeriod(device.minuteIntervalS) ?? DEFAULT_MINUTE_INTERVAL_S)
      : undefined;
  const dataTime = packet.dataTimeUtc;
  const identity = {
    enterpriseId: device.enterpriseId,
    deviceId: device.deviceId,
    kind: shape.kind,
    interval: shape.interval,
    dataTime,
    ...(periodSeconds === undefined ? {} : { periodSeconds }),
  };
  const event: TelemetryV1 = {
    schema: 'telemetry.v1',
    eventId: telemetryEventId(identity),
    enterpriseId: device.enterpriseId,
    siteId: device.siteId,
    deviceId: device.deviceId,
    source: device.source ?? 'hj212',
    kind: shape.kind,
    interval: shape.interval,
    ...(periodSeconds === undefined ? {} : { periodSeconds }),
    dataTime,
    receivedAt: device.receivedAt,
    ...(device.rawRef === undefined ? {} : { rawRef: device.rawRef }),
    irregularities: [...irregularities],
    hj212: {
      st: packet.st,
      cn: packet.cn,
      // No Flag at all is the 2005 style; an unknown version bit is read as the current edition.
      version: packet.version ?? (packet.flag === null ? '2005' : '2017'),
      ...(packet.qn !== null && QN.test(packet.qn) ? { qn: packet.qn } : {}),
    },
    measurements,
  };
  return { ok: true, event };
}

function validPeriod(s: number | undefined): number | undefined {
  return s !== undefined && Number.isInteger(s) && s >= 1 && s <= 86_400 ? s : undefined;
}
