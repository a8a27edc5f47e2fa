// WeChat official account (公众号) template messages: an access_token cached until shortly before it
// expires, one refresh on a token error, then `message/template/send`; errcodes classified for the
// alerter's retries. The callback side (signature, the flat XML WeChat pushes) is in ./callback.ts.
import { createHash } from 'node:crypto';
import type { Channel, Logger, OutgoingNotification, SendResult } from '../channel.js';
import { maskAddress } from '../channel.js';
import { configuredTemplate, NotifyError } from '../errors.js';

export interface WechatTemplate {
  /** The template id the account selected in the MP console. */
  id: string;
  /** Template data key (`thing1`, `time2`, `keyword1`, …) → our parameter (`enterprise`, `rule`, `time`, …). */
  fields: Record<string, string>;
}

export interface WechatConfig {
  appId: string;
  /** AppSecret; from a secret file, never logged. */
  appSecret: string;
  /** Our template key (`reminder`, `escalation`, `regulation`, …) → the account's template. */
  templates: Record<string, WechatTemplate>;
  /** Default https://api.weixin.qq.com ; tests and the demo point it at the local fake. */
  baseUrl?: string;
  timeoutMs?: number;
  /** A token is refreshed this long before WeChat says it expires. Default 300 s. */
  tokenMarginMs?: number;
  provider?: string;
  now?: () => number;
}

/** WeChat's token errors: 40001 invalid credential, 40014 invalid access_token, 42001 access_token expired. */
const TOKEN_ERRORS = new Set([40001, 40014, 42001]);

/** The error for a WeChat errcode of template/send (the global return codes of the MP documentation). */
export function classifyWechatCode(errcode: number, errmsg: string): NotifyError {
  const d = { details: { providerCode: String(errcode) } };
  const text = `WeChat errcode ${errcode}: ${errmsg}`;
  // 40003 invalid openid, 43004 the user does not follow the account: the recipient, permanently.
  if (errcode === 40003 || errcode === 43004) return new NotifyError('NOTIFY_INVALID_RECIPIENT', text, d);
  // 40036/40037 template id, 47001 data format, 47003 argument invalid (a field too long or empty).
  if ([40036, 40037, 47001, 47003].includes(errcode))
    return new NotifyError('NOTIFY_CONTENT_REJECTED', text, d);
  // 45009 daily quota reached, 45011 per-minute quota: later may work.
  if (errcode === 45009 || errcode === 45011)
    return new NotifyError('NOTIFY_RATE_LIMITED', text, { ...d, retryable: true });
  // -1 system busy.
  if (errcode === -1) return new NotifyError('NOTIFY_PROVIDER_UNAVAILABLE', text, { ...d, retryable: true });
  // A token still refused after one refresh: the clock, a rotated secret on another host; try later.
  if (TOKEN_ERRORS.has(errcode))
    return new NotifyError('NOTIFY_PROVIDER_REJECTED', text, { ...d, retryable: true });
  // 40013 appid, 40125 appsecret, 40164 IP not whitelisted, 48001 no permission, …
  return new NotifyError('NOTIFY_PROVIDER_REJECTED', text, d);
}

/** The dedup key WeChat keeps per openid for 10 minutes (`client_msg_id`, at most 64 bytes). */
export function clientMsgIdFor(notificationId: string): string {
  return Buffer.byteLength(notificationId) <= 64 && /^[\x21-\x7e]+$/.test(notificationId)
    ? notificationId
    : createHash('sha256').update(notificationId).digest('hex');
}

type Answer = {
  errcode?: number;
  errmsg?: string;
  access_token?: string;
  expires_in?: number;
  msgid?: string;
};

/**
 * The template-message channel. The recipient address is the contact's openid for this account. Our
 * notification id goes out as `client_msg_id`, so a re-send within WeChat's 10-minute window is
 * de-duplicated by WeChat.
 */
export function createWechatChannel(config: WechatConfig, logger: Logger): Channel {
  const provider = config.provider ?? 'wechat-mp';
  const log = logger.child({ component: 'notify', provider });
  const base = (config.baseUrl ?? 'https://api.weixin.qq.com').replace(/\/+$/, '');
  const now = config.now ?? Date.now;
  const margin = config.tokenMarginMs ?? 300_000;
  let cached: { token: string; expiresAt: number } | undefined;
  let fetching: Promise<string> | undefined;

  /** The answer as JSON, with `msgid` kept as its digits (WeChat's ids exceed 2^53). */
  async function call(url: string, init: RequestInit, what: string): Promise<Answer> {
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal: AbortSignal.timeout(config.timeoutMs ?? 10_000) });
    } catch (err) {
      throw new NotifyError(
        'NOTIFY_PROVIDER_UNAVAILABLE',
        `WeChat ${what} unreachable: ${(err as Error).message}`,
        {
          retryable: true,
          cause: err,
        },
      );
    }
    const body = await res.text();
    if (res.status >= 500)
      throw new NotifyError('NOTIFY_PROVIDER_UNAVAILABLE', `WeChat ${what} answered HTTP ${res.status}`, {
        retryable: true,
      });
    try {
      const json = JSON.parse(body) as unknown;
      if (json && typeof json === 'object' && !Array.isArray(json)) {
        const digits = /"msgid"\s*:\s*"?(\d+)/.exec(body)?.[1];
        return { ...(json as Answer), ...(digits ? { msgid: digits } : {}) };
      }
    } catch {
      // fall through
    }
    throw new NotifyError(
      'NOTIFY_BAD_RESPONSE',
      `WeChat ${what} answered HTTP ${res.status} with no JSON object`,
      {
        retryable: true,
      },
    );
  }

  async function fetchToken(): Promise<string> {
    const q = new URLSearchParams({
      grant_type: 'client_credential',
      appid: config.appId,
      secret: config.appSecret,
    });
    const a = await call(`${base}/cgi-bin/token?${q}`, { method: 'GET' }, 'token');
    if (typeof a.access_token !== 'string' || !a.access_token) {
      // The URL holds the secret: the error names only the code.
      throw classifyWechatCode(a.errcode ?? 0, `no access_token (${a.errmsg ?? 'no errmsg'})`);
    }
    const ttlMs = (typeof a.expires_in === 'number' ? a.expires_in : 7200) * 1000;
    cached = { token: a.access_token, expiresAt: now() + ttlMs };
    log.debug({ expiresInS: ttlMs / 1000 }, 'access_token refreshed');
    return a.access_token;
  }

  /** The cached token while it is good for `margin` more; one fetch at a time otherwise. */
  function token(stale?: string): Promise<string> {
    if (cached && cached.token !== stale && cached.expiresAt - margin > now())
      return Promise.resolve(cached.token);
    fetching ??= fetchToken().finally(() => (fetching = undefined));
    return fetching;
  }

  return {
    provider,
    kind: 'wechat',
    async send(m: OutgoingNotification): Promise<SendResult> {
      const tpl = configuredTemplate(config.templates, m.sms.template, 'WeChat');
      if (!/^[A-Za-z0-9_-]{6,64}$/.test(m.to.address))
        throw new NotifyError('NOTIFY_INVALID_RECIPIENT', 'the recipient address is not a WeChat openid');
      const link = m.sms.params.link;
      const payload = JSON.stringify({
        touser: m.to.address,
        template_id: tpl.id,
        ...(link ? { url: link } : {}),
        client_msg_id: clientMsgIdFor(m.id),
        data: Object.fromEntries(
          Object.entries(tpl.fields).map(([key, param]) => [key, { value: m.sms.params[param] ?? '' }]),
        ),
      });
      const started = Date.now();
      const post = async (t: string) =>
        call(
          `${base}/cgi-bin/message/template/send?access_token=${encodeURIComponent(t)}`,
          { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: payload },
          'template/send',
        );
      let t = await token();
      let a = await post(t);
      if (a.errcode !== undefined && TOKEN_ERRORS.has(a.errcode)) {
        // Expired or revoked (another host fetched a new one): refresh once and send again.
        t = await token(t);
        a = await post(t);
      }
      if (a.errcode !== 0 || !a.msgid)
        throw a.errcode !== undefined && a.errcode !== 0
          ? classifyWechatCode(a.errcode, a.errmsg ?? '')
          : new NotifyError(
              'NOTIFY_BAD_RESPONSE',
              'WeChat template/send answered without errcode 0 and msgid',
              {
                retryable: true,
              },
            );
      const latencyMs = Date.now() - started;
      log.debug(
        { notificationId: m.id, to: maskAddress(m.to.address), msgid: a.msgid, latencyMs },
        'wechat accepted',
      );
      return { provider, providerMessageId: a.msgid, latencyMs };
    },
    async close() {},
  };
}
