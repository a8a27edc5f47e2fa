// A local stand-in for the WeChat official-account API: GET /cgi-bin/token and
// POST /cgi-bin/message/template/send, with WeChat's errcodes, its 10-minute `client_msg_id`
// de-duplication, scripted failures, and (when given a callback) the signed TEMPLATESENDJOBFINISH push.
// For unit tests, the contract suite and int tests; it passes the same contract a real account does.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { wechatSignature } from '../wechat/callback.js';

export interface WechatFakeOptions {
  appId: string;
  appSecret: string;
  /** Openids that follow the account. */
  followers: string[];
  /** Openids of users who unfollowed (43004); any other openid is invalid (40003). */
  unfollowed?: string[];
  /** Template ids the account selected. */
  templates: string[];
  tokenTtlS?: number;
  /** Where accepted messages' TEMPLATESENDJOBFINISH events are pushed, signed with `token`. */
  callback?: { url: string; token: string; status?: (openid: string) => string };
}

export interface FakeSent {
  msgid: string;
  touser: string;
  template_id: string;
  url?: string;
  client_msg_id?: string;
  data: Record<string, { value: string }>;
}

const MSGID_BASE = 3_487_542_469_355_600_000n; // WeChat's msgids exceed 2^53

export async function startWechatFake(opts: WechatFakeOptions) {
  const tokens = new Map<string, number>(); // token → expiry (ms)
  const sent: FakeSent[] = [];
  const dedup = new Map<string, { msgid: string; at: number }>();
  const script: number[] = [];
  const pushes: Promise<unknown>[] = [];
  let next = MSGID_BASE;
  const stats = { tokenRequests: 0, sendRequests: 0, duplicates: 0 };
  const followers = new Set(opts.followers);
  const unfollowed = new Set(opts.unfollowed ?? []);
  const templates = new Set(opts.templates);
  const answer = (errcode: number, errmsg: string) => JSON.stringify({ errcode, errmsg });

  function handle(method: string, url: URL, body: string): string {
    if (url.pathname === '/cgi-bin/token' && method === 'GET') {
      stats.tokenRequests++;
      if (url.searchParams.get('grant_type') !== 'client_credential')
        return answer(40002, 'invalid grant_type');
      if (url.searchParams.get('appid') !== opts.appId) return answer(40013, 'invalid appid');
      if (url.searchParams.get('secret') !== opts.appSecret) return answer(40125, 'invalid appsecret');
      const token = randomBytes(24).toString('base64url');
      const ttl = opts.tokenTtlS ?? 7200;
      tokens.set(token, Date.now() + ttl * 1000);
      return JSON.stringify({ access_token: token, expires_in: ttl });
    }
    if (url.pathname === '/cgi-bin/message/template/send' && method === 'POST') {
      stats.sendRequests++;
      const token = url.searchParams.get('access_token') ?? '';
      const expiry = tokens.get(token);
      if (expiry === undefined)
        return answer(40001, 'invalid credential, access_token is invalid or not latest');
      if (expiry <= Date.now()) return answer(42001, 'access_token expired');
      const scripted = script.shift();
      if (scripted !== undefined) return answer(scripted, `scripted errcode ${scripted}`);
      let m: FakeSent;
      try {
        m = JSON.parse(body) as FakeSent;
      } catch {
        return answer(47001, 'data format error');
      }
      if (typeof m.touser !== 'string' || typeof m.template_id !== 'string')
        return answer(47001, 'data format error');
      if (!templates.has(m.template_id)) return answer(40037, 'invalid template_id');
      if (unfollowed.has(m.touser)) return answer(43004, 'require subscribe');
      if (!followers.has(m.touser)) return answer(40003, 'invalid openid');
      if (!m.data || typeof m.data !== 'object') return answer(47001, 'data format error');
      for (const [k, v] of Object.entries(m.data))
        if (!v || typeof v.value !== 'string' || v.value === '')
          return answer(47003, `argument invalid! data.${k}.value is empty`);
      const key = m.client_msg_id ? `${m.touser}\u0000${m.client_msg_id}` : undefined;
      const seen = key ? dedup.get(key) : undefined;
      if (seen && Date.now() - seen.at < 600_000) {
        stats.duplicates++;
        return `{"errcode":0,"errmsg":"ok","msgid":${seen.msgid}}`;
      }
      const msgid = String(next++);
      if (key) dedup.set(key, { msgid, at: Date.now() });
      sent.push({ ...m, msgid });
      if (opts.callback) pushes.push(pushJobFinish(opts.callback, m.touser, msgid).catch(() => undefined));
      return `{"errcode":0,"errmsg":"ok","msgid":${msgid}}`;
    }
    return answer(40066, 'invalid url');
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = handle(
        req.method ?? '',
        new URL(req.url ?? '/', 'http://fake'),
        Buffer.concat(chunks).toString('utf8'),
      );
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sent,
    stats,
    /** The next `times` template sends answer `errcode` (after the token check). */
    failNext(errcode: number, times = 1) {
      for (let i = 0; i < times; i++) script.push(errcode);
    },
    /** Every token handed out so far is expired (the next send gets 42001). */
    expireTokens() {
      for (const t of tokens.keys()) tokens.set(t, 0);
    },
    /** Resolves once every receipt push started so far has been answered. */
    settled: () => Promise.all(pushes),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type WechatFake = Awaited<ReturnType<typeof startWechatFake>>;

/** Posts WeChat's TEMPLATESENDJOBFINISH event for one message, signed as WeChat signs it. */
export async function pushJobFinish(
  cb: { url: string; token: string; status?: (openid: string) => string },
  openid: string,
  msgid: string,
): Promise<Response> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = randomBytes(6).toString('hex');
  const q = new URLSearchParams({ signature: wechatSignature(cb.token, timestamp, nonce), timestamp, nonce });
  const xml =
    `<xml><ToUserName><![CDATA[gh_offsite]]></ToUserName><FromUserName><![CDATA[${openid}]]></FromUserName>` +
    `<CreateTime>${timestamp}</CreateTime><MsgType><![CDATA[event]]></MsgType>` +
    `<Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>${msgid}</MsgID>` +
    `<Status><![CDATA[${cb.status?.(openid) ?? 'success'}]]></Status></xml>`;
  return fetch(`${cb.url}${cb.url.includes('?') ? '&' : '?'}${q}`, {
    method: 'POST',
    headers: { 'content-type': 'text/xml' },
    body: xml,
  });
}
