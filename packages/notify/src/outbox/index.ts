import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Channel, Logger, OutgoingNotification, SendResult } from '../channel.js';
import { NotifyError } from '../errors.js';

export interface OutboxConfig {
  /** Directory the messages are written to (created when missing). */
  dir: string;
  /** What the outbox stands in for: `email` writes .eml, `sms` writes .txt. */
  as: 'email' | 'sms';
  provider?: string;
}

export function outboxFileBase(notificationId: string): string {
  return notificationId.replace(/[^A-Za-z0-9._-]/g, '_');
}

function eml(m: OutgoingNotification): string {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n');
  return [
    `To: ${m.to.address}`,
    `Subject: =?UTF-8?B?${Buffer.from(m.subject, 'utf8').toString('base64')}?=`,
    `Message-ID: <${outboxFileBase(m.id)}@outbox.offsite>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    b64(m.text),
    '',
  ].join('\r\n');
}

/**
 * The embedded default channel: one `<id>.json` plus a rendered `<id>.eml` or `<id>.txt` per
 * message. Idempotent by notification id: a second send of the same id finds the file and returns
 * the first result instead of writing again. The JSON is renamed into place last.
 */
export function createOutboxChannel(config: OutboxConfig, logger: Logger): Channel {
  const provider = config.provider ?? 'outbox';
  const log = logger.child({ component: 'notify', provider });
  return {
    provider,
    kind: 'outbox',
    async send(m: OutgoingNotification): Promise<SendResult> {
      const started = Date.now();
      const base = outboxFileBase(m.id);
      const jsonPath = path.join(config.dir, `${base}.json`);
      try {
        await mkdir(config.dir, { recursive: true });
        try {
          const prev = JSON.parse(await readFile(jsonPath, 'utf8')) as { id: string };
          log.debug({ notificationId: m.id }, 'already in outbox');
          return { provider, providerMessageId: `${prev.id}`, latencyMs: Date.now() - started };
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
        const rendered = config.as === 'email' ? eml(m) : `${m.sms.text}\n`;
        await writeFile(path.join(config.dir, `${base}.${config.as === 'email' ? 'eml' : 'txt'}`), rendered);
        const record = {
          id: base,
          notificationId: m.id,
          as: config.as,
          to: m.to,
          language: m.language,
          subject: m.subject,
          text: m.text,
          sms: m.sms,
          writtenAt: new Date().toISOString(),
        };
        const tmp = path.join(config.dir, `.${base}.json.tmp`);
        await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`);
        await rename(tmp, jsonPath);
        return { provider, providerMessageId: base, latencyMs: Date.now() - started };
      } catch (err) {
        throw new NotifyError(
          'NOTIFY_PROVIDER_UNAVAILABLE',
          `outbox write failed: ${(err as Error).message}`,
          {
            retryable: true,
            cause: err,
          },
        );
      }
    },
    async close() {},
  };
}
