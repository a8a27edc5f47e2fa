import nodemailer from 'nodemailer';
import type { Channel, Logger, OutgoingNotification, SendResult } from '../channel.js';
import { maskAddress } from '../channel.js';
import { NotifyError } from '../errors.js';
import { buildMime } from './mime.js';

export interface EmailConfig {
  host: string;
  port: number;
  secure?: boolean;
  auth?: { user: string; pass: string };
  from: { address: string; name?: string };
  /** Domain of the Message-ID; the id part is the notification id, so a resend carries the same Message-ID. */
  messageIdDomain: string;
  maxConnections?: number;
  maxMessages?: number;
  /** Milliseconds for connection, greeting and socket inactivity. */
  timeoutMs?: number;
  provider?: string;
}

/** RFC 5322 Message-ID for a notification: identical on every retry, so receivers can de-duplicate. */
export function messageIdFor(notificationId: string, domain: string): string {
  return `<${notificationId.replace(/[^A-Za-z0-9._-]/g, '_')}@${domain}>`;
}

function classify(err: unknown): NotifyError {
  const e = err as { responseCode?: number; code?: string; message?: string };
  const msg = e.message ?? String(err);
  if (typeof e.responseCode === 'number') {
    if (e.responseCode >= 500) {
      // 550/553 mailbox problems are the recipient's; other 5xx are the relay refusing us.
      const recipient = [550, 551, 553].includes(e.responseCode) || e.code === 'EENVELOPE';
      return new NotifyError(recipient ? 'NOTIFY_INVALID_RECIPIENT' : 'NOTIFY_PROVIDER_REJECTED', msg, {
        retryable: false,
        failover: !recipient,
        cause: err,
        details: { responseCode: e.responseCode },
      });
    }
    return new NotifyError('NOTIFY_PROVIDER_UNAVAILABLE', msg, {
      retryable: true,
      failover: true,
      cause: err,
    });
  }
  if (e.code === 'EAUTH')
    return new NotifyError('NOTIFY_PROVIDER_REJECTED', msg, { retryable: false, failover: true, cause: err });
  return new NotifyError('NOTIFY_PROVIDER_UNAVAILABLE', msg, { retryable: true, failover: true, cause: err });
}

/** Email over pooled SMTP (nodemailer). HTML + text, stable Message-ID per notification. */
export function createEmailChannel(config: EmailConfig, logger: Logger): Channel {
  const provider = config.provider ?? 'smtp';
  const log = logger.child({ component: 'notify', provider });
  const timeout = config.timeoutMs ?? 15_000;
  const transport = nodemailer.createTransport({
    pool: true,
    host: config.host,
    port: config.port,
    secure: config.secure ?? false,
    ...(config.auth ? { auth: config.auth } : {}),
    maxConnections: config.maxConnections ?? 5,
    maxMessages: config.maxMessages ?? 10_000,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
  });
  return {
    provider,
    kind: 'email',
    async send(m: OutgoingNotification): Promise<SendResult> {
      const messageId = messageIdFor(m.id, config.messageIdDomain);
      const started = Date.now();
      try {
        // The MIME message is built directly into one buffer (mime.ts) and handed to the pool as
        // `raw`, so the SMTP connection writes it in one go.
        const raw = buildMime({
          from: config.from,
          to: m.to,
          subject: m.subject,
          text: m.text,
          html: m.html,
          messageId,
          headers: {
            'X-Offsite-Notification-Id': m.id,
            'Content-Language': m.language === 'zh' ? 'zh-CN' : 'en',
          },
        });
        const info = await transport.sendMail({
          envelope: { from: config.from.address, to: [m.to.address] },
          raw,
        });
        if (info.rejected.length > 0)
          throw new NotifyError(
            'NOTIFY_INVALID_RECIPIENT',
            `recipient rejected: ${maskAddress(m.to.address)}`,
          );
        const latencyMs = Date.now() - started;
        log.debug({ notificationId: m.id, to: maskAddress(m.to.address), latencyMs }, 'email accepted');
        return { provider, providerMessageId: messageId, latencyMs };
      } catch (err) {
        if (err instanceof NotifyError) throw err;
        throw classify(err);
      }
    },
    async close() {
      transport.close();
    },
  };
}
