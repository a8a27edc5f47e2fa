// The official account's server URL (/wechat/callback): WeChat verifies it with a signed GET that
// echoes `echostr`, and POSTs flat XML signed the same way (plain mode; the account's messages are not
// AES-encrypted). TEMPLATESENDJOBFINISH events are delivery receipts of our template messages. A bad
// signature is refused with 401 and kept like any refused receipt callback.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  isNotifyError,
  parseWechatPush,
  verifyWechatSignature,
  type DeliveryReceipt,
  type WechatPush,
} from '@offsite/notify';
import type { ReceiptCounts } from './receipts.js';
import { rejectedRequest, type RejectedReceipt } from './receipt-rejects.js';

export interface WechatCallbackOptions {
  /** The token configured with the account's server URL (signs every push). */
  token: string;
  /** Provider name of the WeChat channel, so receipts match its sends. */
  provider: string;
  recordReceipts: (r: DeliveryReceipt[]) => Promise<ReceiptCounts>;
  onReceipts?: (provider: string, counts: ReceiptCounts) => void;
  onRejected?: (r: RejectedReceipt) => Promise<void> | void;
  /** A pushed message that is not a receipt (a user's text, a follow event): kept by the caller. */
  onMessage?: (m: Exclude<WechatPush, { kind: 'receipt' }>) => Promise<void>;
  /** How long an unknown receipt is tried again. Default 3000 ms. */
  receiptWaitMs?: number;
}

type Q = { signature?: string; timestamp?: string; nonce?: string; echostr?: string };

/** How long a receipt waits for its send's `sent` record (WeChat waits 5 s for an answer). */
const RECEIPT_WAIT_MS = 3000;

export function registerWechatCallback(app: FastifyInstance, opts: WechatCallbackOptions): void {
  void app.register(async (r) => {
    r.removeAllContentTypeParsers();
    r.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) =>
      done(null, body),
    );
    const keep = (req: FastifyRequest, status: number, reason: string, message: string) =>
      opts.onRejected?.(
        rejectedRequest(req, {
          provider: 'wechat',
          reason,
          message,
          status,
          body: `${req.url}\n${String(req.body ?? '')}`,
        }),
      );
    const reject = async (
      req: FastifyRequest,
      reply: FastifyReply,
      status: number,
      reason: string,
      message: string,
    ) => {
      await keep(req, status, reason, message);
      return reply.code(status).type('text/plain; charset=utf-8').send(`${reason}: ${message}`);
    };
    // WeChat can push TEMPLATESENDJOBFINISH before the send's `sent` record (with the msgid) is
    // committed: an unknown receipt is tried again for a few seconds before it counts as unknown.
    const recordSoon = async (receipt: DeliveryReceipt): Promise<ReceiptCounts> => {
      const end = Date.now() + (opts.receiptWaitMs ?? RECEIPT_WAIT_MS);
      for (;;) {
        const counts = await opts.recordReceipts([receipt]);
        if (counts.unknown === 0 || Date.now() >= end) return counts;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const signed = (q: Q) => verifyWechatSignature(opts.token, q);
    const badSignature = 'signature does not match the account token / 签名与公众号令牌不符';

    r.get<{ Querystring: Q }>('/wechat/callback', async (req, reply) => {
      if (!signed(req.query)) return reject(req, reply, 401, 'wechat-signature-invalid', badSignature);
      return reply.type('text/plain; charset=utf-8').send(req.query.echostr ?? '');
    });

    r.post<{ Querystring: Q }>('/wechat/callback', async (req, reply) => {
      if (!signed(req.query)) return reject(req, reply, 401, 'wechat-signature-invalid', badSignature);
      let push: WechatPush;
      try {
        push = parseWechatPush(String(req.body ?? ''), opts.provider);
      } catch (err) {
        if (isNotifyError(err)) return reject(req, reply, 400, err.code, err.message);
        throw err;
      }
      if (push.kind === 'receipt') {
        const counts = await recordSoon(push.receipt);
        opts.onReceipts?.('wechat', counts);
      } else if (opts.onMessage) await opts.onMessage(push);
      else if (push.kind === 'text')
        // Nobody takes users' messages here: kept (like a refused callback) for a person to read.
        await keep(
          req,
          200,
          'wechat-message-not-taken',
          'a user message the alerter does not take / 用户消息未被受理，已留存',
        );
      // WeChat reads `success` (or an empty body) as received and does not push again.
      return reply.type('text/plain; charset=utf-8').send('success');
    });
  });
}
