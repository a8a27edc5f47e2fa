// The official account's server URL (/wechat/callback): WeChat verifies it with a signed GET that
// echoes `echostr`, and POSTs flat XML signed the same way (plain mode; the account's messages are not
// AES-encrypted). TEMPLATESENDJOBFINISH events are delivery receipts of our template messages. A user's
// text message is a complaint: handed to `onText` (the alerter passes it on to the console over Kafka)
// and, once that resolved, answered with a passive text reply acknowledging it. A bad signature (401),
// malformed XML (400) or a body over 64 KiB (413) is refused and kept like any refused receipt callback.
// A kept request never holds a user's openid in the clear (personal data): it is masked as in the logs.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  isNotifyError,
  maskAddress,
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
  /**
   * A user's text message: resolves once it is durably handed on (then the user gets `replyText`).
   * Rejects with a `WechatTextRefused` when the message cannot be taken (kept, answered with the reason);
   * any other rejection answers 503 (kept; WeChat pushes the same MsgId again). Absent: the message is
   * kept as a file (`wechat-message-not-taken`).
   */
  onText?: (m: Extract<WechatPush, { kind: 'text' }>) => Promise<void>;
  /** The passive reply to a text message that was taken. */
  replyText?: string;
  /** How long an unknown receipt is tried again. Default 3000 ms. */
  receiptWaitMs?: number;
}

type Q = { signature?: string; timestamp?: string; nonce?: string; echostr?: string };

/**
 * The request as kept in a reject file, its sender's openid masked: the XML's FromUserName (CDATA or
 * plain; in a message or a receipt it is the user) and an `openid` query parameter (safe mode adds it).
 */
export function maskWechatRequest(url: string, body: string): string {
  const maskedUrl = url.replace(/([?&]openid=)([^&#]*)/gi, (_, k: string, v: string) => k + maskAddress(v));
  const maskedBody = body.replace(
    /(<FromUserName>\s*(?:<!\[CDATA\[)?)([\s\S]*?)((?:\]\]>)?\s*<\/FromUserName>)/g,
    (_, open: string, v: string, close: string) => open + (v === '' ? v : maskAddress(v)) + close,
  );
  return `${maskedUrl}\n${maskedBody}`;
}

/** A text message the account does not take (too long, fields out of shape): its reason and reply. */
export class WechatTextRefused extends Error {
  constructor(
    readonly reason: string,
    message: string,
    readonly replyText: string,
  ) {
    super(message);
  }
}

/** What the user sees after a complaint was passed on (WeChat's passive reply). */
export const WECHAT_COMPLAINT_REPLY =
  '您的投诉举报已收到，我们将在24小时内受理并尽快核实处理。如需补充线索，请继续留言。';

/** WeChat's passive reply: a text message back to the sender (the XML WeChat reads from our answer). */
export function wechatTextReply(to: string, from: string, content: string, at: Date): string {
  const cdata = (s: string) => `<![CDATA[${s.replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;
  return (
    `<xml><ToUserName>${cdata(to)}</ToUserName><FromUserName>${cdata(from)}</FromUserName>` +
    `<CreateTime>${Math.floor(at.getTime() / 1000)}</CreateTime><MsgType>${cdata('text')}</MsgType>` +
    `<Content>${cdata(content)}</Content></xml>`
  );
}

/** The largest body WeChat's pushes come near (a text message is at most a few KiB). */
const MAX_BODY_BYTES = 64 * 1024;

/** How long a receipt waits for its send's `sent` record (WeChat waits 5 s for an answer). */
const RECEIPT_WAIT_MS = 3000;

/** The name the callback's receipts and refusals are counted and kept under (`onReceipts`, `onRejected`). */
export const WECHAT_CALLBACK = 'wechat';

export function registerWechatCallback(app: FastifyInstance, opts: WechatCallbackOptions): void {
  void app.register(async (r) => {
    r.removeAllContentTypeParsers();
    // Read up to 1 MiB so a body over the limit is kept (its first 64 KiB) and refused with a reason.
    r.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_req, body, done) =>
      done(null, body),
    );
    const keep = (req: FastifyRequest, status: number, reason: string, message: string) =>
      opts.onRejected?.(
        rejectedRequest(req, {
          provider: WECHAT_CALLBACK,
          reason,
          message,
          status,
          body: maskWechatRequest(req.url, String(req.body ?? '')),
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
      if (Buffer.byteLength(String(req.body ?? '')) > MAX_BODY_BYTES)
        return reject(
          req,
          reply,
          413,
          'wechat-body-too-large',
          `body over ${MAX_BODY_BYTES} bytes / 消息体超过 ${MAX_BODY_BYTES} 字节`,
        );
      let push: WechatPush;
      try {
        push = parseWechatPush(String(req.body ?? ''), opts.provider);
      } catch (err) {
        if (isNotifyError(err)) return reject(req, reply, 400, err.code, err.message);
        throw err;
      }
      if (push.kind === 'receipt') {
        const counts = await recordSoon(push.receipt);
        opts.onReceipts?.(WECHAT_CALLBACK, counts);
      } else if (push.kind === 'text' && opts.onText) {
        const answer = (content: string) =>
          reply
            .type('application/xml; charset=utf-8')
            .send(wechatTextReply(push.openid, push.account, content, new Date()));
        try {
          await opts.onText(push);
        } catch (err) {
          if (err instanceof WechatTextRefused) {
            // Answered (200: WeChat would only push it again) and kept for a person to read.
            await keep(req, 200, err.reason, err.message);
            return answer(err.replyText);
          }
          await keep(
            req,
            503,
            'wechat-message-not-passed-on',
            'the message could not be handed on; WeChat pushes it again / 消息未能转交，等待微信重推',
          );
          return reply.code(503).type('text/plain; charset=utf-8').send('try again');
        }
        return answer(opts.replyText ?? WECHAT_COMPLAINT_REPLY);
      } else if (push.kind === 'text')
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
