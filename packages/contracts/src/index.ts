// Public API of @offsite/contracts: types and validators generated from schemas/, the topic catalog
// and the deterministic id recipes. Regenerate with `npm run generate` after editing schemas/.
export type { TelemetryV1, Measurement, Hj212Header, Stat, DataFlag } from './generated/telemetry.v1.js';
export type {
  TelemetryDlqV1,
  DlqReason,
  DlqOrigin,
  TcpOrigin,
  MqttOrigin,
  KafkaOrigin,
  HttpOrigin,
} from './generated/telemetry.dlq.v1.js';
export type { VideoAlarmV1, VideoAlarmSnapshot } from './generated/video-alarm.v1.js';
export type { VideoWebhookV1, VideoWebhookSnapshot, AlarmType } from './generated/video-webhook.v1.js';
export type { TelemetryLateV1 } from './generated/telemetry.late.v1.js';
export type { Hj212RawV1, Hj212Connection, Hj212RawError } from './generated/hj212.raw.v1.js';
export type { DeviationV1, DeviationEvidence, EvidenceValue } from './generated/deviation.v1.js';
export type {
  NotificationV1,
  NotificationRecipient,
  NotificationError,
} from './generated/notification.v1.js';
export type { MessageRequestV1, MessageRecipient } from './generated/message.request.v1.js';
export type { Hj212CommandV1 } from './generated/hj212.command.v1.js';
export type { ComplaintIntakeV1 } from './generated/complaint.intake.v1.js';
export type { ReviewDecisionV1 } from './generated/review.decision.v1.js';
export type { MeterEnergyV1 } from './generated/meter-energy.v1.js';
export type { MeterStatusV1 } from './generated/meter-status.v1.js';
export {
  telemetryV1Schema,
  telemetryDlqV1Schema,
  telemetryLateV1Schema,
  hj212RawV1Schema,
  deviationV1Schema,
  notificationV1Schema,
  reviewDecisionV1Schema,
  messageRequestV1Schema,
  hj212CommandV1Schema,
  complaintIntakeV1Schema,
  meterEnergyV1Schema,
  meterStatusV1Schema,
  videoAlarmV1Schema,
  videoWebhookV1Schema,
  schemaIds,
} from './generated/schemas.js';
export type { ValidationResult } from './validation.js';
export {
  validateTelemetryV1,
  validateTelemetryDlqV1,
  validateTelemetryLateV1,
  validateHj212RawV1,
  validateDeviationV1,
  validateNotificationV1,
  validateReviewDecisionV1,
  validateMessageRequestV1,
  validateHj212CommandV1,
  validateComplaintIntakeV1,
  validateMeterEnergyV1,
  validateMeterStatusV1,
  validateVideoAlarmV1,
  validateVideoWebhookV1,
} from './validators.js';
export { kafkaHeaders, kafkaMessage, kafkaTopics, upstreamFeedTopics, mqttTopics } from './catalog.js';
export type { CatalogMessage, KafkaTopic, KafkaTopicName, MqttTopic, SchemaName } from './catalog.js';
export { deviationId, isCanonicalUtc, telemetryEventId } from './ids.js';
export {
  decodeKafkaRecord,
  dlqRecord,
  DLQ_RAW_MAX_BYTES,
  kafkaDlqRecord,
  type DlqInput,
  type KafkaDlqInput,
} from './dlq.js';

import type { DeviationV1 } from './generated/deviation.v1.js';
import type { NotificationV1 } from './generated/notification.v1.js';
import type { TelemetryV1 } from './generated/telemetry.v1.js';
export type DeviationRule = DeviationV1['rule'];
export type DeviationState = DeviationV1['state'];
export type Severity = DeviationV1['severity'];
export type TelemetrySource = TelemetryV1['source'];
export type TelemetryKind = TelemetryV1['kind'];
export type TelemetryInterval = TelemetryV1['interval'];
export type NotificationStatus = NotificationV1['status'];
export type NotificationChannel = NotificationV1['channel'];
