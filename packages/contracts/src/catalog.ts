import type { DeviationV1 } from './generated/deviation.v1.js';
import type { Hj212RawV1 } from './generated/hj212.raw.v1.js';
import type { MeterEnergyV1 } from './generated/meter-energy.v1.js';
import type { MeterStatusV1 } from './generated/meter-status.v1.js';
import type { NotificationV1 } from './generated/notification.v1.js';
import type { MessageRequestV1 } from './generated/message.request.v1.js';
import type { Hj212CommandV1 } from './generated/hj212.command.v1.js';
import type { ComplaintIntakeV1 } from './generated/complaint.intake.v1.js';
import type { ReviewDecisionV1 } from './generated/review.decision.v1.js';
import { schemaIds } from './generated/schemas.js';
import type { TelemetryDlqV1 } from './generated/telemetry.dlq.v1.js';
import type { TelemetryLateV1 } from './generated/telemetry.late.v1.js';
import type { TelemetryV1 } from './generated/telemetry.v1.js';
import type { VideoAlarmV1 } from './generated/video-alarm.v1.js';
import type { ValidationResult } from './validation.js';
import {
  validateDeviationV1,
  validateHj212RawV1,
  validateMeterEnergyV1,
  validateMeterStatusV1,
  validateNotificationV1,
  validateReviewDecisionV1,
  validateMessageRequestV1,
  validateHj212CommandV1,
  validateComplaintIntakeV1,
  validateTelemetryDlqV1,
  validateTelemetryLateV1,
  validateTelemetryV1,
  validateVideoAlarmV1,
} from './validators.js';

export type SchemaName = keyof typeof schemaIds;

/** A Kafka topic: its name, payload schema, message key and partition count in one place. */
export interface KafkaTopic<T> {
  readonly name: string;
  readonly schema: SchemaName;
  readonly schemaId: string;
  /** Dotted path of the payload field used as the message key. */
  readonly keyField: string;
  /** Extracts the message key from a payload. */
  readonly key: (value: T) => string;
  readonly partitions: number;
  readonly validate: (input: unknown) => ValidationResult<T>;
  /** The payload's own id: the `offsite-id` header. */
  readonly id: (value: T) => string;
  /** Further headers this topic's messages carry, beside `offsite-schema` and `offsite-id`. */
  readonly headers?: (value: T) => Record<string, string>;
}

function kafkaTopic<T>(t: Omit<KafkaTopic<T>, 'schemaId'>): KafkaTopic<T> {
  return Object.freeze({ ...t, schemaId: schemaIds[t.schema] });
}

/** A Kafka message as every Offsite producer writes it (structurally a `@offsite/kafka` OutgoingMessage). */
export interface CatalogMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
  /** Event time, ms since epoch. */
  timestamp?: number;
}

/** The headers every Offsite message carries: its schema and its payload's id. */
export function kafkaHeaders(schema: SchemaName, id: string): Record<string, string> {
  return { 'offsite-schema': schema, 'offsite-id': id };
}

/**
 * The one way to turn a payload into a Kafka message: the key from the catalogue, the headers in one
 * vocabulary (`offsite-schema`, `offsite-id`, and the topic's own), the value as JSON. `json` passes
 * a value already serialised by a hot path.
 */
export function kafkaMessage<T>(
  topic: KafkaTopic<T>,
  value: T,
  opts: { json?: string; timestamp?: number } = {},
): CatalogMessage {
  const headers = kafkaHeaders(topic.schema, topic.id(value));
  if (topic.headers) Object.assign(headers, topic.headers(value));
  return {
    key: topic.key(value),
    value: opts.json ?? JSON.stringify(value),
    headers,
    ...(opts.timestamp !== undefined ? { timestamp: opts.timestamp } : {}),
  };
}

export const kafkaTopics = Object.freeze({
  telemetry: kafkaTopic<TelemetryV1>({
    name: 'telemetry.v1',
    schema: 'telemetry.v1',
    keyField: 'enterpriseId',
    key: (v) => v.enterpriseId,
    partitions: 6,
    validate: validateTelemetryV1,
    id: (v) => v.eventId,
  }),
  telemetryDlq: kafkaTopic<TelemetryDlqV1>({
    name: 'telemetry.dlq.v1',
    schema: 'telemetry.dlq.v1',
    keyField: 'id',
    key: (v) => v.id,
    partitions: 3,
    validate: validateTelemetryDlqV1,
    id: (v) => v.id,
  }),
  telemetryLate: kafkaTopic<TelemetryLateV1>({
    name: 'telemetry.late.v1',
    schema: 'telemetry.late.v1',
    keyField: 'deviceId',
    key: (v) => v.deviceId,
    partitions: 3,
    validate: validateTelemetryLateV1,
    id: (v) => v.id,
  }),
  hj212Raw: kafkaTopic<Hj212RawV1>({
    name: 'hj212.raw.v1',
    schema: 'hj212.raw.v1',
    keyField: 'connection.id',
    key: (v) => v.connection.id,
    partitions: 6,
    validate: validateHj212RawV1,
    id: (v) => v.id,
  }),
  deviation: kafkaTopic<DeviationV1>({
    name: 'deviation.v1',
    schema: 'deviation.v1',
    keyField: 'enterpriseId',
    key: (v) => v.enterpriseId,
    partitions: 6,
    validate: validateDeviationV1,
    id: (v) => v.id,
    headers: (v) => ({ 'offsite-revision': String(v.revision) }),
  }),
  notification: kafkaTopic<NotificationV1>({
    name: 'notification.v1',
    schema: 'notification.v1',
    keyField: 'id',
    key: (v) => v.id,
    partitions: 3,
    validate: validateNotificationV1,
    id: (v) => v.id,
  }),
  reviewDecision: kafkaTopic<ReviewDecisionV1>({
    name: 'review.decision.v1',
    schema: 'review.decision.v1',
    keyField: 'enterpriseId',
    key: (v) => v.enterpriseId,
    partitions: 3,
    validate: validateReviewDecisionV1,
    id: (v) => v.id,
  }),
  messageRequest: kafkaTopic<MessageRequestV1>({
    name: 'message.request.v1',
    schema: 'message.request.v1',
    keyField: 'id',
    key: (v) => v.id,
    partitions: 3,
    validate: validateMessageRequestV1,
    id: (v) => v.id,
  }),
  hj212Command: kafkaTopic<Hj212CommandV1>({
    name: 'hj212.command.v1',
    schema: 'hj212.command.v1',
    keyField: 'mn',
    key: (v) => v.mn,
    partitions: 3,
    validate: validateHj212CommandV1,
    id: (v) => v.id,
  }),
  videoAlarm: kafkaTopic<VideoAlarmV1>({
    name: 'video-alarm.v1',
    schema: 'video-alarm.v1',
    keyField: 'enterpriseId',
    key: (v) => v.enterpriseId,
    partitions: 3,
    validate: validateVideoAlarmV1,
    id: (v) => v.id,
  }),
  complaintIntake: kafkaTopic<ComplaintIntakeV1>({
    name: 'complaint.intake.v1',
    schema: 'complaint.intake.v1',
    keyField: 'id',
    key: (v) => v.id,
    partitions: 3,
    validate: validateComplaintIntakeV1,
    id: (v) => v.id,
  }),
});

export type KafkaTopicName = (typeof kafkaTopics)[keyof typeof kafkaTopics]['name'];

/**
 * Upstream platform feeds consumed by the kafka-ingestor: one topic per feed, `upstream.<feed>.v1`.
 * A record value is an HJ 212 frame (text) or a telemetry.v1 event (JSON).
 */
export const upstreamFeedTopics = Object.freeze({
  address: 'upstream.{feed}.v1',
  /** Subscription pattern for the consumer. */
  pattern: /^upstream\.[a-z0-9][a-z0-9-]*\.v1$/,
  name(feed: string): string {
    const name = `upstream.${feed}.v1`;
    if (!this.pattern.test(name))
      throw new Error(`invalid upstream feed name "${feed}": use a-z, 0-9 and '-'`);
    return name;
  },
});

/** An MQTT topic family: `address` uses {placeholders} like the AsyncAPI document. */
export interface MqttTopic<P extends string, T> {
  readonly address: string;
  /** Filter for a (shared) subscription covering every enterprise and device. */
  readonly filter: string;
  readonly schema: SchemaName | null;
  readonly validate: ((input: unknown) => ValidationResult<T>) | null;
  /** Builds a concrete topic; rejects parameter values that are not one MQTT topic level. */
  readonly topic: (params: Record<P, string>) => string;
  /** Extracts the parameters from a concrete topic, or undefined when it is not in this family. */
  readonly parse: (topic: string) => Record<P, string> | undefined;
}

/** One MQTT topic level: non-empty, no separator, no wildcard, no NUL. */
const isLevel = (s: string) => /^[^/+#]+$/.test(s) && !s.includes('\0');

function mqttTopic<P extends string, T>(
  address: string,
  schema: SchemaName | null,
  validate: ((input: unknown) => ValidationResult<T>) | null,
): MqttTopic<P, T> {
  const levels = address.split('/');
  const placeholder = (level: string) => /^\{(\w+)\}$/.exec(level)?.[1];
  return Object.freeze({
    address,
    filter: levels.map((l) => (placeholder(l) ? '+' : l)).join('/'),
    schema,
    validate,
    topic(params: Record<P, string>) {
      return levels
        .map((l) => {
          const name = placeholder(l);
          if (!name) return l;
          const value = params[name as P];
          if (typeof value !== 'string' || !isLevel(value))
            throw new Error(`invalid MQTT topic parameter ${name}=${JSON.stringify(value)}`);
          return value;
        })
        .join('/');
    },
    parse(topic: string) {
      const parts = topic.split('/');
      if (parts.length !== levels.length) return undefined;
      const out: Record<string, string> = {};
      for (const [i, l] of levels.entries()) {
        const part = parts[i] ?? '';
        const name = placeholder(l);
        if (name) {
          if (!isLevel(part)) return undefined;
          out[name] = part;
        } else if (part !== l) return undefined;
      }
      return out as Record<P, string>;
    },
  });
}

export const mqttTopics = Object.freeze({
  meterEnergy: mqttTopic<'enterpriseId' | 'meterId', MeterEnergyV1>(
    'offsite/v1/{enterpriseId}/meters/{meterId}/energy',
    'meter-energy.v1',
    validateMeterEnergyV1,
  ),
  meterStatus: mqttTopic<'enterpriseId' | 'meterId', MeterStatusV1>(
    'offsite/v1/{enterpriseId}/meters/{meterId}/status',
    'meter-status.v1',
    validateMeterStatusV1,
  ),
  /** Payload: one raw HJ 212 frame as text (no JSON schema; decode with the HJ 212 codec). */
  hj212: mqttTopic<'enterpriseId' | 'mn', never>('offsite/v1/{enterpriseId}/hj212/{mn}', null, null),
});
