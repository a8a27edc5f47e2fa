// The enterprise acknowledgement page, the SMS delivery-receipt callbacks and the WeChat official
// account's callback (one small Fastify server).
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { formatShanghai } from '@offsite/domain/calendar';
import { isNotifyError, parseAliyunReceipts, parseTencentReceipts, ruleLabel } from '@offsite/notify';
import type { Alerter, ReceiptCounts } from './app.js';
import { rejectedRequest, type RejectedReceipt } from './receipt-rejects.js';
import { registerWechatCallback, WECHAT_CALLBACK, type WechatCallbackOptions } from './wechat-callback.js';

/**
 * The channel of a callback as its hooks name it (`onReceipts`, `onRejected`): the WeChat callback's, else an SMS
 * provider's receipt callback (`aliyun`, `tencent`). Labels the receipt metrics.
 */
export const receiptChannel = (callback: string): 'sms' | 'wechat' =>
  callback === WECHAT_CALLBACK ? 'wechat' : 'sms';

export interface AckServerOptions {
  alerter: Pick<Alerter, 'ackView' | 'acknowledge' | 'recordReceipts'>;
  /** Key in the receipt callback path; empty disables the receipt routes. */
  receiptKey?: string;
  /** Called once per receipt request with how its receipts were recorded. */
  onReceipts?: (provider: string, counts: ReceiptCounts) => void;
  /**
   * A receipt callback refused with a 4xx (wrong key, malformed body): kept for inspection (the
   * alerter writes it to a directory). Must not throw; awaited before the answer.
   */
  onRejected?: (r: RejectedReceipt) => Promise<void> | void;
  /** The official account's callback (`/wechat/callback`); absent: no route. */
  wechat?: Pick<WechatCallbackOptions, 'token' | 'provider' | 'onText' | 'replyText'>;
}

type Lang = 'zh' | 'en';

const T = {
  zh: {
    title: '异常情况确认',
    intro: (ent: string) => `${ent}：以下在线监控异常需贵单位确认。请说明原因并填写预计整改完成时间。`,
    since: '起始时间（北京时间）',
    cleared: '已恢复',
    cause: '原因说明',
    fix: '预计整改完成时间（北京时间）',
    submit: '提交确认',
    done: '已收到贵单位的确认，谢谢。督办提醒已停止。',
    already: '贵单位已确认过本次提醒；再次提交将不会覆盖原记录。',
    expires: (t: string) => `本链接有效期至 ${t}（北京时间）。`,
    other: 'English',
    errors: {
      malformed: '链接无效，请使用短信或邮件中的完整链接。',
      'bad-signature': '链接无效，请使用短信或邮件中的完整链接。',
      expired: '链接已过期，请联系属地生态环境部门。',
      'unknown-group': '未找到对应的提醒。',
      'cause-required': '请填写原因说明。',
      'bad-fix-time': '预计整改完成时间格式不正确。',
    } as Record<string, string>,
  },
  en: {
    title: 'Acknowledge deviations',
    intro: (ent: string) =>
      `${ent}: please confirm the following monitoring deviations, explain the cause and give the expected fix time.`,
    since: 'Since (Beijing time)',
    cleared: 'cleared',
    cause: 'Cause',
    fix: 'Expected fix time (Beijing time)',
    submit: 'Confirm',
    done: 'Your acknowledgement was recorded. Thank you; escalation has stopped.',
    already: 'This reminder was already acknowledged; a new submission does not replace the first.',
    expires: (t: string) => `This link is valid until ${t} (Beijing time).`,
    other: '中文',
    errors: {
      malformed: 'Invalid link; please use the full link from the SMS or e-mail.',
      'bad-signature': 'Invalid link; please use the full link from the SMS or e-mail.',
      expired: 'This link has expired; please contact the district bureau.',
      'unknown-group': 'No such reminder.',
      'cause-required': 'Please state the cause.',
      'bad-fix-time': 'The expected fix time is not a valid time.',
    } as Record<string, string>,
  },
};

/** Constant-time comparison of the callback key. */
function keyMatches(given: string, key: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(key);
  return a.length === b.length && timingSafeEqual(a, b);
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(lang: Lang, body: string, status = 200): { status: number; html: string } {
  return {
    status,
    html: `<!doctype html><html lang="${lang === 'zh' ? 'zh-CN' : 'en'}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(T[lang].title)}</title><style>body{font-family:sans-serif;max-width:40rem;margin:1rem auto;padding:0 1rem}label{display:block;margin-top:1rem}textarea,input{width:100%;box-sizing:border-box}.err{color:#b00}</style></head><body><h1>${esc(T[lang].title)}</h1>${body}</body></html>`,
  };
}

/** "2026-03-02T16:00" from a datetime-local field is Beijing time; full ISO strings are taken as they are. */
export function parseFixTime(v: string | undefined): string | undefined {
  if (!v) return undefined;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(v)) return `${v}:00+08:00`;
  return v;
}

export function createAckServer(opts: AckServerOptions): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 16 * 1024 },
    (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  app.addHook('onSend', async (_req, reply) => {
    // The token in the URL is the credential: never leak it through Referer, framing or caches.
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('cache-control', 'no-store');
    reply.header(
      'content-security-policy',
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    );
  });

  const langOf = (q: { lang?: string }): Lang => (q.lang === 'en' ? 'en' : 'zh');

  async function form(token: string, lang: Lang, note?: string): Promise<{ status: number; html: string }> {
    const t = T[lang];
    const v = await opts.alerter.ackView(token);
    if (!v.ok)
      return page(
        lang,
        `<p class="err">${esc(t.errors[v.reason] ?? v.reason)}</p>`,
        v.reason === 'expired' ? 410 : 400,
      );
    const name = (x: { zh: string; en?: string }) => (lang === 'en' ? (x.en ?? x.zh) : x.zh);
    const items = v.items
      .map(
        (i) =>
          `<li><b>${esc(ruleLabel(i.rule, lang))}</b> — ${esc(name(i.facility))}<br>${esc(t.since)}: ${esc(formatShanghai(i.openedAt))}${i.resolvedAt ? ` (${esc(t.cleared)} ${esc(formatShanghai(i.resolvedAt))})` : ''}<br><small>${esc(i.summary)}</small></li>`,
      )
      .join('');
    const other = lang === 'zh' ? 'en' : 'zh';
    return page(
      lang,
      `<p><a href="?t=${encodeURIComponent(token)}&amp;lang=${other}">${esc(t.other)}</a></p>` +
        (note ? `<p class="err">${esc(note)}</p>` : '') +
        `<p>${esc(t.intro(name(v.enterprise)))}</p><ol>${items}</ol>` +
        (v.acknowledged ? `<p>${esc(t.already)}</p>` : '') +
        `<form method="post" action="ack"><input type="hidden" name="t" value="${esc(token)}"><input type="hidden" name="lang" value="${lang}">` +
        `<label>${esc(t.cause)}<textarea name="cause" required maxlength="2000" rows="4"></textarea></label>` +
        `<label>${esc(t.fix)}<input type="datetime-local" name="expectedFixAt"></label>` +
        `<p><button type="submit">${esc(t.submit)}</button></p></form><p><small>${esc(t.expires(formatShanghai(v.expiresAt)))}</small></p>`,
    );
  }

  app.get<{ Querystring: { t?: string; lang?: string } }>('/ack', async (req, reply) => {
    const lang = langOf(req.query);
    const r = await form(req.query.t ?? '', lang);
    return reply.code(r.status).type('text/html; charset=utf-8').send(r.html);
  });

  app.post<{ Body: Record<string, string> | undefined }>('/ack', async (req, reply) => {
    const b = req.body ?? {};
    const lang = langOf(b);
    const token = b.t ?? '';
    const fix = parseFixTime(b.expectedFixAt);
    const r = await opts.alerter.acknowledge({
      token,
      cause: b.cause ?? '',
      ...(fix ? { expectedFixAt: fix } : {}),
    });
    if (!r.ok) {
      if (r.reason === 'cause-required' || r.reason === 'bad-fix-time') {
        const again = await form(token, lang, T[lang].errors[r.reason]);
        return reply
          .code(again.status === 200 ? 422 : again.status)
          .type('text/html; charset=utf-8')
          .send(again.html);
      }
      const p = page(
        lang,
        `<p class="err">${esc(T[lang].errors[r.reason] ?? r.reason)}</p>`,
        r.reason === 'expired' ? 410 : 400,
      );
      return reply.code(p.status).type('text/html; charset=utf-8').send(p.html);
    }
    const p = page(lang, `<p>${esc(T[lang].done)}</p>`);
    return reply.code(200).type('text/html; charset=utf-8').send(p.html);
  });

  if (opts.receiptKey) {
    const key = opts.receiptKey;
    void app.register(async (r) => {
      // Receipts are parsed by notify from the raw body.
      r.removeAllContentTypeParsers();
      r.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_req, body, done) =>
        done(null, body),
      );
      // Each provider's own answer format: Aliyun reads `code` (0 = received), Tencent `result`.
      const answer = (provider: 'aliyun' | 'tencent', ok: boolean, msg: string) =>
        provider === 'aliyun' ? { code: ok ? 0 : 1, msg } : { result: ok ? 0 : 1, errmsg: msg };
      const handler =
        (provider: 'aliyun' | 'tencent') =>
        async (req: FastifyRequest<{ Params: { key: string } }>, reply: FastifyReply) => {
          const body = String(req.body ?? '');
          const reject = async (status: number, reason: string, message: string) => {
            await opts.onRejected?.(rejectedRequest(req, { provider, reason, message, status, body }));
            return reply.code(status).send({ ...answer(provider, false, reason), message });
          };
          // Neither provider signs its receipt callbacks; the unguessable key in the configured
          // callback URL is the credential. A wrong key is refused (and kept) like a bad signature.
          if (!keyMatches(req.params.key, key))
            return reject(
              401,
              'receipt-key-invalid',
              'unknown receipt callback key / 回执回调地址密钥不正确',
            );
          let list;
          try {
            list = provider === 'aliyun' ? parseAliyunReceipts(body) : parseTencentReceipts(body);
          } catch (err) {
            if (isNotifyError(err)) return reject(400, err.code, err.message);
            throw err;
          }
          opts.onReceipts?.(provider, await opts.alerter.recordReceipts(list));
          return reply.code(200).send(answer(provider, true, provider === 'aliyun' ? '成功' : 'OK'));
        };
      r.post<{ Params: { key: string } }>('/sms/receipts/aliyun/:key', handler('aliyun'));
      r.post<{ Params: { key: string } }>('/sms/receipts/tencent/:key', handler('tencent'));
    });
  }
  if (opts.wechat?.token)
    registerWechatCallback(app, {
      ...opts.wechat,
      recordReceipts: (list) => opts.alerter.recordReceipts(list),
      ...(opts.onReceipts ? { onReceipts: opts.onReceipts } : {}),
      ...(opts.onRejected ? { onRejected: opts.onRejected } : {}),
    });
  return app;
}
