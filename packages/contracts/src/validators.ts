import type { DeviationV1 } from './generated/deviation.v1.js';
import type { Hj212RawV1 } from './generated/hj212.raw.v1.js';
import type { MeterEnergyV1 } from './generated/meter-energy.v1.js';
import type { MeterStatusV1 } from './generated/meter-status.v1.js';
import type { NotificationV1 } from './generated/notification.v1.js';
import type { MessageRequestV1 } from './generated/message.request.v1.js';
import type { Hj212CommandV1 } from './generated/hj212.command.v1.js';
import type { ComplaintIntakeV1 } from './generated/complaint.intake.v1.js';
import type { ReviewDecisionV1 } from './generated/review.decision.v1.js';
import type { TelemetryDlqV1 } from './generated/telemetry.dlq.v1.js';
import type { TelemetryLateV1 } from './generated/telemetry.late.v1.js';
import type { TelemetryV1 } from './generated/telemetry.v1.js';
import type { VideoAlarmV1 } from './generated/video-alarm.v1.js';
import type { VideoWebhookV1 } from './generated/video-webhook.v1.js';
import * as generated from './generated/validators.js';
import { makeValidator } from './validation.js';

// One typed validator per schema; the compiled code is in generated/validators.js (no compilation at runtime).
export const validateTelemetryV1 = makeValidator<TelemetryV1>(generated.validateTelemetryV1);
export const validateTelemetryDlqV1 = makeValidator<TelemetryDlqV1>(generated.validateTelemetryDlqV1);
export const validateTelemetryLateV1 = makeValidator<TelemetryLateV1>(generated.validateTelemetryLateV1);
export const validateHj212RawV1 = makeValidator<Hj212RawV1>(generated.validateHj212RawV1);
export const validateDeviationV1 = makeValidator<DeviationV1>(generated.validateDeviationV1);
export const validateNotificationV1 = makeValidator<NotificationV1>(generated.validateNotificationV1);
export const validateReviewDecisionV1 = makeValidator<ReviewDecisionV1>(generated.validateReviewDecisionV1);
export const validateMessageRequestV1 = makeValidator<MessageRequestV1>(generated.validateMessageRequestV1);
export const validateHj212CommandV1 = makeValidator<Hj212CommandV1>(generated.validateHj212CommandV1);
export const validateComplaintIntakeV1 = makeValidator<ComplaintIntakeV1>(
  generated.validateComplaintIntakeV1,
);
export const validateMeterEnergyV1 = makeValidator<MeterEnergyV1>(generated.validateMeterEnergyV1);
export const validateMeterStatusV1 = makeValidator<MeterStatusV1>(generated.validateMeterStatusV1);
export const validateVideoWebhookV1 = makeValidator<VideoWebhookV1>(generated.validateVideoWebhookV1);
export const validateVideoAlarmV1 = makeValidator<VideoAlarmV1>(generated.validateVideoAlarmV1);
