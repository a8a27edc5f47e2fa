// Public API of @offsite/notify: delivery channels (one folder per provider), templates and SMS length.
export { maskAddress } from './channel.js';
export type {
  Channel,
  DeliveryReceipt,
  Language,
  Logger,
  OutgoingNotification,
  SendResult,
} from './channel.js';
export { NotifyError, isNotifyError, type NotifyErrorCode } from './errors.js';
export { SMS_PART_LIMIT, SMS_SINGLE_LIMIT, fitSms, smsLength, smsSegments } from './sms-segments.js';
export {
  factorLabel,
  renderPlainMessage,
  renderReminder,
  ruleLabel,
  type ReminderItem,
  type ReminderKind,
  type ReminderModel,
  type RenderedMessage,
} from './templates.js';
export { createEmailChannel, messageIdFor, type EmailConfig } from './email/index.js';
export { createOutboxChannel, outboxFileBase, type OutboxConfig } from './outbox/index.js';
export {
  createAliyunSmsChannel,
  parseAliyunReceipts,
  classifyAliyunCode,
  type AliyunSmsConfig,
} from './sms-aliyun/index.js';
export { popSignature } from './sms-aliyun/sign.js';
export {
  createTencentSmsChannel,
  parseTencentReceipts,
  classifyTencentCode,
  type TencentSmsConfig,
} from './sms-tencent/index.js';
export { tc3Sign } from './sms-tencent/sign.js';
export {
  classifyWechatCode,
  clientMsgIdFor,
  createWechatChannel,
  type WechatConfig,
  type WechatTemplate,
} from './wechat/index.js';
export {
  parseWechatPush,
  parseWechatXml,
  verifyWechatSignature,
  wechatSignature,
  type WechatPush,
} from './wechat/callback.js';
