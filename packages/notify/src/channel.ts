/** The project's one Logger type (a pino logger satisfies it). */
export type { Logger } from '@offsite/runtime/logger';

export type Language = 'zh' | 'en';

/** One rendered message for one recipient. `id` is stable across retries and restarts. */
export interface OutgoingNotification {
  /** Deterministic notification id (deviation, recipient, channel, round); used as Message-ID / OutId. */
  id: string;
  to: { address: string; name?: string };
  language: Language;
  subject: string;
  text: string;
  html: string;
  /** SMS form: a provider template key with its parameters, and the text it renders to. */
  sms: { template: string; params: Record<string, string>; text: string };
}

export interface SendResult {
  provider: string;
  /** Provider's id (SMTP Message-ID, Aliyun BizId, Tencent SerialNo, WeChat msgid, outbox file name). */
  providerMessageId: string;
  /** Milliseconds the provider took to accept. */
  latencyMs: number;
}

/** A delivery adapter. Throws NotifyError on failure. */
export interface Channel {
  readonly provider: string;
  readonly kind: 'email' | 'sms' | 'wechat' | 'outbox';
  send(message: OutgoingNotification): Promise<SendResult>;
  close(): Promise<void>;
}

/** A provider's delivery receipt, normalised. */
export interface DeliveryReceipt {
  provider: string;
  providerMessageId: string;
  /** Our notification id when the provider echoes it (Aliyun out_id, Tencent has none in receipts). */
  notificationId?: string;
  /** The phone number, or the openid for WeChat. */
  phone: string;
  delivered: boolean;
  errorCode?: string;
  errorMessage?: string;
  at: Date;
}

/** Masks an address for logs and events: 138****5678, z***@example.com. */
export function maskAddress(address: string): string {
  const at = address.indexOf('@');
  if (at > 0) return `${address.slice(0, 1)}***${address.slice(at)}`;
  const digits = address.replace(/^\+86/, '');
  if (digits.length >= 7) return `${digits.slice(0, 3)}****${digits.slice(-4)}`;
  return `${address.slice(0, 1)}***`;
}
