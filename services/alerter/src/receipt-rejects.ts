// Receipt callbacks the alerter refused (wrong key, malformed body) are kept as files, one JSON
// document each, so an operator can see what a provider (or someone else) posted and replay it.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyRequest } from 'fastify';
import type { Logger } from '@offsite/notify';

export interface RejectedReceipt {
  provider: 'aliyun' | 'tencent' | 'wechat';
  /** `receipt-key-invalid` (the key in the SMS callback path), `wechat-signature-invalid`, or notify's error code. */
  reason: string;
  message: string;
  status: number;
  receivedAt: Date;
  remoteAddress: string;
  contentType: string | null;
  body: string;
}

/** The record of one refused (or kept) callback request. */
export function rejectedRequest(
  req: FastifyRequest,
  what: Pick<RejectedReceipt, 'provider' | 'status' | 'reason' | 'message' | 'body'>,
): RejectedReceipt {
  return {
    ...what,
    receivedAt: new Date(),
    remoteAddress: req.ip,
    contentType: req.headers['content-type'] ?? null,
  };
}

export interface RejectKeeperOptions {
  dir: string;
  logger: Logger;
  /** Body bytes kept per callback (the route accepts up to 1 MiB). Default 64 KiB. */
  maxBodyBytes?: number;
  /** Called after each rejected callback (metrics). */
  counted?: (provider: string, reason: string) => void;
}

/** Returns the `onRejected` hook of the ack server. Never throws: a failed write is logged. */
export function createRejectKeeper(opts: RejectKeeperOptions): (r: RejectedReceipt) => Promise<void> {
  const log = opts.logger.child({ component: 'receipt-rejects' });
  const max = opts.maxBodyBytes ?? 64 * 1024;
  let ready: Promise<unknown> | undefined;
  return async (r) => {
    opts.counted?.(r.provider, r.reason);
    const body = Buffer.from(r.body);
    const name = `${r.receivedAt.toISOString().replace(/[-:.]/g, '')}-${r.provider}-${r.reason.toLowerCase()}-${randomBytes(3).toString('hex')}.json`;
    log.warn(
      { provider: r.provider, reason: r.reason, status: r.status, remote: r.remoteAddress, file: name },
      'receipt callback refused',
    );
    try {
      ready ??= mkdir(opts.dir, { recursive: true });
      await ready;
      const doc = {
        ...r,
        receivedAt: r.receivedAt.toISOString(),
        body: body.subarray(0, max).toString('utf8'),
        bodyBytes: body.length,
        truncated: body.length > max,
      };
      const tmp = path.join(opts.dir, `.${name}.tmp`);
      await writeFile(tmp, `${JSON.stringify(doc, null, 2)}\n`);
      await rename(tmp, path.join(opts.dir, name));
    } catch (err) {
      ready = undefined;
      log.error({ err, file: name }, 'refused receipt callback not kept');
    }
  };
}
