import { mqttTopics, type TelemetryDlqV1, type TelemetryV1 } from '@offsite/contracts';
import { decodePacket } from '@offsite/hj212';
import {
  normalizeHj212,
  normalizeMeterEnergy,
  normalizeMeterStatus,
  type NormalizeResult,
} from '@offsite/normalize';
import { mqttDlqRecord } from './dlq.js';
import type { RegistryIndex } from '@offsite/store';

export type RouteResult =
  | { kind: 'telemetry'; event: TelemetryV1 }
  /** Valid but not a reading (e.g. an HJ 212 reply or request): acknowledged, nothing produced. */
  | { kind: 'ignore'; reason: string }
  | { kind: 'dlq'; record: TelemetryDlqV1 };

export interface RouteContext {
  index: RegistryIndex;
  /** ISO 8601 UTC. */
  receivedAt: string;
  clientId?: string;
}

/**
 * Turns one MQTT message into a telemetry.v1 event, or says why not (DLQ reason codes:
 * mqtt.unknown-topic, registry.unknown-enterprise, registry.unknown-meter, registry.unknown-device,
 * registry.device-disabled, json.invalid, hj212.<decoder code>, hj212.mn-mismatch,
 * hj212.split-unsupported, normalize.<reason>). Pure: no I/O, the clock comes in the context.
 */
type DlqExtra = {
  enterpriseId?: string;
  deviceId?: string;
  irregularities?: readonly string[];
  /** The HJ 212 topic family: the record masks the frame's passwords. */
  hj212?: boolean;
};

// Module-level rather than closures per message: the hot path allocates no functions.
function dlqResult(
  topic: string,
  payload: Buffer,
  ctx: RouteContext,
  code: string,
  message: string,
  extra: DlqExtra = {},
): RouteResult {
  return {
    kind: 'dlq',
    record: mqttDlqRecord({
      topic,
      payload,
      code,
      message,
      receivedAt: ctx.receivedAt,
      ...(ctx.clientId ? { clientId: ctx.clientId } : {}),
      ...extra,
    }),
  };
}

function fromNormalize(
  topic: string,
  payload: Buffer,
  ctx: RouteContext,
  r: NormalizeResult,
  ids: DlqExtra & { enterpriseId: string; deviceId: string },
): RouteResult {
  if (r.ok) return { kind: 'telemetry', event: r.event };
  if (r.kind === 'not-telemetry') return { kind: 'ignore', reason: r.reason };
  const detail = r.details?.length ? `: ${r.details.join('; ')}` : '';
  return dlqResult(topic, payload, ctx, `normalize.${r.reason}`, `${r.message}${detail}`, ids);
}

function unknownEnterprise(
  topic: string,
  payload: Buffer,
  ctx: RouteContext,
  ids: DlqExtra & { enterpriseId: string; deviceId: string },
): RouteResult {
  const why = `enterprise ${ids.enterpriseId} is not in the registry`;
  return dlqResult(topic, payload, ctx, 'registry.unknown-enterprise', why, ids);
}

/** A topic's parse: which family it is in and its parameters (the same as mqttTopics.*.parse). */
type ParsedTopic =
  | { family: 'energy' | 'status'; enterpriseId: string; meterId: string }
  | { family: 'hj212'; enterpriseId: string; mn: string }
  | { family: 'unknown' };

function parseTopic(topic: string): ParsedTopic {
  const energy = mqttTopics.meterEnergy.parse(topic);
  if (energy) return { family: 'energy', ...energy };
  const status = mqttTopics.meterStatus.parse(topic);
  if (status) return { family: 'status', ...status };
  const hj = mqttTopics.hj212.parse(topic);
  if (hj) return { family: 'hj212', ...hj };
  return { family: 'unknown' };
}

/**
 * Parsed topics by topic string. A deployment has one topic per meter or logger (tens of thousands at
 * most), and parsing one (split, a regular expression per level, an object) cost more than the map
 * lookup; the map is emptied when it reaches TOPIC_CACHE_MAX so stray topics cannot grow it without bound.
 */
const topicCache = new Map<string, ParsedTopic>();
const TOPIC_CACHE_MAX = 100_000;

function cachedTopic(topic: string): ParsedTopic {
  let parsed = topicCache.get(topic);
  if (parsed === undefined) {
    parsed = parseTopic(topic);
    if (topicCache.size >= TOPIC_CACHE_MAX) topicCache.clear();
    topicCache.set(topic, parsed);
  }
  return parsed;
}

export function routeMqttMessage(topic: string, payload: Buffer, ctx: RouteContext): RouteResult {
  const parsed = cachedTopic(topic);
  if (parsed.family === 'energy' || parsed.family === 'status') {
    const { enterpriseId, meterId } = parsed;
    if (!ctx.index.hasEnterprise(enterpriseId))
      return unknownEnterprise(topic, payload, ctx, { enterpriseId, deviceId: meterId });
    if (!ctx.index.meter(enterpriseId, meterId))
      return dlqResult(
        topic,
        payload,
        ctx,
        'registry.unknown-meter',
        `meter ${meterId} is not registered for ${enterpriseId}`,
        { enterpriseId, deviceId: meterId },
      );
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch (e) {
      return dlqResult(topic, payload, ctx, 'json.invalid', `payload is not JSON: ${(e as Error).message}`, {
        enterpriseId,
        deviceId: meterId,
      });
    }
    const meter = { enterpriseId, meterId, source: 'mqtt' as const, receivedAt: ctx.receivedAt };
    const r =
      parsed.family === 'energy' ? normalizeMeterEnergy(json, meter) : normalizeMeterStatus(json, meter);
    if (r.ok) return { kind: 'telemetry', event: r.event };
    return fromNormalize(topic, payload, ctx, r, { enterpriseId, deviceId: meterId });
  }

  if (parsed.family === 'hj212') {
    const { enterpriseId, mn } = parsed;
    const ids = { enterpriseId, deviceId: mn, hj212: true };
    if (!ctx.index.hasEnterprise(enterpriseId)) return unknownEnterprise(topic, payload, ctx, ids);
    const device = ctx.index.device(enterpriseId, mn);
    if (!device)
      return dlqResult(
        topic,
        payload,
        ctx,
        'registry.unknown-device',
        `data logger ${mn} is not registered for ${enterpriseId}`,
        ids,
      );
    if (!device.enabled)
      return dlqResult(
        topic,
        payload,
        ctx,
        'registry.device-disabled',
        `data logger ${mn} is disabled in the registry`,
        ids,
      );
    const decoded = decodePacket(payload, { policy: 'tolerant' });
    if (!decoded.ok)
      return dlqResult(topic, payload, ctx, `hj212.${decoded.error.code}`, decoded.error.message, {
        ...ids,
        irregularities: decoded.irregularities ?? [],
      });
    const packet = decoded.packet;
    if (packet.mn !== mn)
      return dlqResult(
        topic,
        payload,
        ctx,
        'hj212.mn-mismatch',
        `packet MN ${packet.mn} differs from the topic's ${mn}`,
        ids,
      );
    if (packet.split)
      return dlqResult(
        topic,
        payload,
        ctx,
        'hj212.split-unsupported',
        'split packets (PNUM/PNO) are not reassembled over MQTT; send them over TCP',
        ids,
      );
    return fromNormalize(
      topic,
      payload,
      ctx,
      normalizeHj212(packet, {
        enterpriseId,
        siteId: device.outletId,
        deviceId: mn,
        minuteIntervalS: device.minuteIntervalS,
        source: 'mqtt',
        receivedAt: ctx.receivedAt,
      }),
      ids,
    );
  }
  return dlqResult(
    topic,
    payload,
    ctx,
    'mqtt.unknown-topic',
    `topic ${topic} is not an Offsite ingest topic`,
  );
}
