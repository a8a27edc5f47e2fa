import {
  dlqRecord as sharedDlqRecord,
  validateTelemetryV1,
  type TelemetryDlqV1,
  type TelemetryV1,
} from '@offsite/contracts';
import { decodePacket, maskPasswords } from '@offsite/hj212';
import type { ConsumedMessage } from '@offsite/kafka';
import { normalizeHj212 } from '@offsite/normalize';
import type { RegistryIndex } from '@offsite/store';

export type RouteResult =
  | { kind: 'telemetry'; event: TelemetryV1 }
  | { kind: 'ignore'; reason: string }
  | { kind: 'dlq'; record: TelemetryDlqV1 };

function dlqRecord(
  m: ConsumedMessage,
  code: string,
  message: string,
  receivedAt: string,
  ids: { enterpriseId?: string | undefined; deviceId?: string | undefined } = {},
): TelemetryDlqV1 {
  const value = m.value ?? Buffer.alloc(0);
  return sharedDlqRecord({
    source: 'kafka',
    origin: { transport: 'kafka', topic: m.topic, partition: m.partition, offset: m.offset },
    identity: [m.topic, String(m.partition), m.offset],
    code,
    message,
    // An HJ 212 frame (`##…`) keeps its PW/NewPW values masked, as the gateway's DLQ does.
    raw: value[0] === 0x23 && value[1] === 0x23 ? maskPasswords(value) : value,
    receivedAt,
    ...ids,
  });
}

/**
 * One upstream record → telemetry.v1. A value starting with `##` is an HJ 212 frame (its MN is looked
 * up in the registry); anything else must be a telemetry.v1 event as JSON, whose `source` becomes
 * `kafka` and `rawRef` the upstream `topic/partition/offset`. DLQ reasons: json.invalid,
 * schema.invalid, registry.unknown-enterprise, registry.unknown-device, registry.device-disabled,
 * hj212.<decoder code>, hj212.split-unsupported, normalize.<reason>.
 */
export function routeUpstreamRecord(
  m: ConsumedMessage,
  index: RegistryIndex,
  receivedAt: string,
): RouteResult {
  const raw = m.value ?? Buffer.alloc(0);
  const rawRef = `${m.topic}/${m.partition}/${m.offset}`;
  const dlq = (
    code: string,
    message: string,
    ids?: { enterpriseId?: string | undefined; deviceId?: string | undefined },
  ): RouteResult => ({
    kind: 'dlq',
    record: dlqRecord(m, code, message, receivedAt, ids),
  });
  if (raw.length >= 2 && raw[0] === 0x23 && raw[1] === 0x23) {
    const decoded = decodePacket(raw, { policy: 'tolerant' });
    if (!decoded.ok)
      return dlq(`hj212.${decoded.error.code}`, decoded.error.message, {
        deviceId: decoded.header?.mn ?? undefined,
      });
    const p = decoded.packet;
    const device = index.deviceByMn(p.mn);
    if (!device)
      return dlq('registry.unknown-device', `data logger ${p.mn} is not in the registry`, { deviceId: p.mn });
    const ids = { enterpriseId: device.enterpriseId, deviceId: p.mn };
    if (!device.enabled) return dlq('registry.device-disabled', `data logger ${p.mn} is disabled`, ids);
    if (p.split)
      return dlq(
        'hj212.split-unsupported',
        'split packets (PNUM/PNO) are not reassembled from Kafka feeds',
        ids,
      );
    const r = normalizeHj212(p, {
      enterpriseId: device.enterpriseId,
      siteId: device.outletId,
      deviceId: p.mn,
      minuteIntervalS: device.minuteIntervalS,
      source: 'kafka',
      rawRef,
      receivedAt,
    });
    if (r.ok) return { kind: 'telemetry', event: r.event };
    if (r.kind === 'not-telemetry') return { kind: 'ignore', reason: r.reason };
    return dlq(
      `normalize.${r.reason}`,
      `${r.message}${r.details?.length ? `: ${r.details.join('; ')}` : ''}`,
      ids,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    return dlq('json.invalid', `neither an HJ 212 frame nor JSON: ${(e as Error).message}`);
  }
  const obj =
    typeof json === 'object' && json !== null && !Array.isArray(json)
      ? (json as Record<string, unknown>)
      : undefined;
  const ids = {
    enterpriseId: typeof obj?.enterpriseId === 'string' ? obj.enterpriseId : undefined,
    deviceId: typeof obj?.deviceId === 'string' ? obj.deviceId : undefined,
  };
  const v = validateTelemetryV1(obj ? { ...obj, source: 'kafka', rawRef } : json);
  if (!v.ok) return dlq('schema.invalid', `not a telemetry.v1 event: ${v.errors.join('; ')}`, ids);
  if (!index.hasEnterprise(v.value.enterpriseId))
    return dlq(
      'registry.unknown-enterprise',
      `enterprise ${v.value.enterpriseId} is not in the registry`,
      ids,
    );
  return { kind: 'telemetry', event: v.value };
}
