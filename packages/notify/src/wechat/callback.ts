// What WeChat pushes to the account's server URL: a query signed with the account's token
// (`signature` = sha1 of token, timestamp and nonce sorted and joined) and a flat XML body.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { DeliveryReceipt } from '../channel.js';
import { NotifyError } from '../errors.js';

/** sha1 of the token, timestamp and nonce, sorted and joined: WeChat's callback signature. */
export function wechatSignature(token: string, timestamp: string, nonce: string): string {
  return createHash('sha1').update([token, timestamp, nonce].sort().join('')).digest('hex');
}

/** True when `signature` is the one WeChat computes for this token, timestamp and nonce. */
export function verifyWechatSignature(
  token: string,
  q: { signature?: string; timestamp?: string; nonce?: string },
): boolean {
  if (!q.signature || !q.timestamp || !q.nonce) return false;
  const want = Buffer.from(wechatSignature(token, q.timestamp, q.nonce));
  const got = Buffer.from(q.signature.toLowerCase());
  return got.length === want.length && timingSafeEqual(got, want);
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * The fields of WeChat's flat `<xml><Name><![CDATA[v]]></Name>…</xml>` body (plain text values are
 * unescaped). Anything else (nesting, a DOCTYPE, no `<xml>` root) is refused.
 */
export function parseWechatXml(body: string): Record<string, string> {
  const root = /^\s*<xml>([\s\S]*)<\/xml>\s*$/.exec(body);
  if (!root) throw new NotifyError('NOTIFY_RECEIPT_INVALID', 'WeChat callback body is not an <xml> document');
  const fields: Record<string, string> = {};
  const element = /\s*<([A-Za-z][A-Za-z0-9_]*)>(?:<!\[CDATA\[([\s\S]*?)\]\]>|([^<]*))<\/\1>\s*/y;
  let rest = root[1]!;
  while (rest.trim()) {
    element.lastIndex = 0;
    const m = element.exec(rest);
    if (!m)
      throw new NotifyError('NOTIFY_RECEIPT_INVALID', 'WeChat callback XML is not a flat list of fields');
    fields[m[1]!] = m[2] ?? m[3]!.replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) => ENTITIES[e]!);
    rest = rest.slice(m[0].length);
  }
  return fields;
}

/** A message or event WeChat pushed, by type. */
export type WechatPush =
  | { kind: 'receipt'; receipt: DeliveryReceipt }
  | { kind: 'text'; openid: string; account: string; msgId: string; content: string; at: Date }
  | { kind: 'other'; msgType: string; event?: string };

/** Reads a pushed body: TEMPLATESENDJOBFINISH becomes a delivery receipt, a text message its text. */
export function parseWechatPush(body: string, provider = 'wechat-mp'): WechatPush {
  const f = parseWechatXml(body);
  const need = (k: string) => {
    const v = f[k];
    if (v === undefined || v === '')
      throw new NotifyError('NOTIFY_RECEIPT_INVALID', `WeChat callback lacks ${k}`);
    return v;
  };
  const msgType = need('MsgType');
  const openid = need('FromUserName');
  const at = new Date(Number(need('CreateTime')) * 1000);
  if (Number.isNaN(at.getTime()))
    throw new NotifyError('NOTIFY_RECEIPT_INVALID', 'WeChat CreateTime is not a number');
  if (msgType === 'event' && f.Event === 'TEMPLATESENDJOBFINISH') {
    const msgId = f.MsgID ?? f.MsgId;
    if (!msgId || !/^\d+$/.test(msgId))
      throw new NotifyError('NOTIFY_RECEIPT_INVALID', 'WeChat TEMPLATESENDJOBFINISH lacks MsgID');
    const status = need('Status');
    const delivered = status === 'success';
    // `failed:user block` → user-block, `failed: system failed` → system-failed (a code, not prose).
    const code =
      status
        .replace(/^failed:\s*/, '')
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-+|-+$/g, '') || 'failed';
    return {
      kind: 'receipt',
      receipt: {
        provider,
        providerMessageId: msgId,
        phone: openid,
        delivered,
        ...(delivered ? {} : { errorCode: code, errorMessage: status }),
        at,
      },
    };
  }
  if (msgType === 'text')
    return {
      kind: 'text',
      openid,
      account: need('ToUserName'),
      msgId: need('MsgId'),
      content: need('Content'),
      at,
    };
  return { kind: 'other', msgType, ...(f.Event ? { event: f.Event } : {}) };
}
