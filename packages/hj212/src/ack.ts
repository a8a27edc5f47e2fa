/**
 * What a centre answers to a received packet: 9014 for data uploads that ask for it, 9013 for
 * notifications, 9011 for requests, and 9011 with an error QnRtn for packets it cannot accept.
 * Pure decision; the gateway sends the reply only after Kafka acknowledged the data.
 */
import type { DecodeResult } from './decode.js';
import type { PacketInput } from './encoder.js';
import type { Packet } from './packet.js';
import { dataAck, notificationAck, QnRtn, requestAck } from './replies.js';
import type { DecodeErrorCode } from './result.js';

/** Uploads from a data logger (9015 is the HJ 212-2025 heartbeat). */
export const UPLOAD_CNS: ReadonlySet<string> = new Set([
  '2011', '2021', '2031', '2041', '2051', '2061', '2081', '3019', '3020', '9015',
]); // prettier-ignore
/** Notifications a data logger sends (1013: it asks the centre for the time). */
export const NOTIFICATION_CNS: ReadonlySet<string> = new Set(['1013']);
/** Requests (parameter commands; 2031/2051/2061 too when they carry BeginTime/EndTime). */
export const REQUEST_CNS: ReadonlySet<string> = new Set([
  '1000', '1011', '1012', '1061', '1062', '1063', '1064', '1072', '3011', '3012', '3013', '3014', '3015',
]); // prettier-ignore
export const REPLY_CNS: ReadonlySet<string> = new Set(['9011', '9012', '9013', '9014']);

export type PacketKind = 'upload' | 'notification' | 'request' | 'reply' | 'unknown';

export function classifyPacket(packet: Pick<Packet, 'cn' | 'params' | 'dataTime'>): PacketKind {
  const { cn } = packet;
  if (REPLY_CNS.has(cn)) return 'reply';
  if (NOTIFICATION_CNS.has(cn)) return 'notification';
  if (REQUEST_CNS.has(cn)) return 'request';
  if (UPLOAD_CNS.has(cn)) {
    const history = packet.params.BeginTime !== undefined && packet.dataTime === null;
    return history && (cn === '2031' || cn === '2051' || cn === '2061') ? 'request' : 'upload';
  }
  return 'unknown';
}

/** The QnRtn that answers a packet rejected with this error. */
export function qnRtnFor(code: DecodeErrorCode): QnRtn {
  switch (code) {
    case 'crc-mismatch':
    case 'crc-malformed':
    case 'crc-modbus-swapped':
    case 'crc-modbus':
    case 'crc-lowercase':
      return QnRtn.CrcError;
    case 'missing-pw':
      return QnRtn.PasswordError;
    case 'missing-mn':
    case 'mn-nonstandard':
      return QnRtn.MnError;
    case 'missing-st':
    case 'st-unknown':
      return QnRtn.StError;
    case 'missing-flag':
    case 'invalid-flag':
    case 'flag-version-unknown':
    case 'invalid-split':
    case 'split-without-pnum':
      return QnRtn.FlagError;
    case 'missing-qn':
    case 'qn-malformed':
      return QnRtn.QnError;
    case 'missing-cn':
      return QnRtn.CnError;
    case 'frame-malformed':
    case 'frame-too-large':
    case 'frame-truncated':
    case 'garbage':
    case 'invalid-utf8':
    case 'decrypt-failed':
      return QnRtn.Unknown;
    default:
      return QnRtn.Rejected;
  }
}

export type ReplyDecision =
  | { readonly reply: PacketInput; readonly reason: string }
  | { readonly reply: null; readonly reason: string };

/**
 * The reply to a decoded (or rejected) packet. A reply that could carry neither the sender's QN nor
 * its MN identifies nothing and is not sent.
 */
export function decideReply(result: DecodeResult): ReplyDecision {
  const d = decide(result);
  if (d.reply && (d.reply.qn ?? null) === null && (d.reply.mn ?? null) === null) {
    return { reply: null, reason: `${d.reason}; no QN or MN a reply can carry` };
  }
  return d;
}

function decide(result: DecodeResult): ReplyDecision {
  if (!result.ok) {
    const h = result.header;
    if (!h || (h.qn === null && h.mn === null)) {
      return { reply: null, reason: `${result.error.code}: nothing identifies the sender` };
    }
    const code = qnRtnFor(result.error.code);
    return { reply: requestAck(h, code), reason: `${result.error.code}: QnRtn=${code}` };
  }
  const p = result.packet;
  switch (classifyPacket(p)) {
    case 'upload':
      return p.ackRequested
        ? { reply: dataAck(p), reason: `data upload ${p.cn}: 9014` }
        : { reply: null, reason: `data upload ${p.cn}: no acknowledgement requested (Flag bit A)` };
    case 'notification':
      return { reply: notificationAck(p), reason: `notification ${p.cn}: 9013` };
    case 'request':
      return { reply: requestAck(p, QnRtn.Ready), reason: `request ${p.cn}: 9011 QnRtn=1` };
    case 'reply':
      return { reply: null, reason: `reply ${p.cn}: not answered` };
    case 'unknown':
      return { reply: requestAck(p, QnRtn.CnError), reason: `unknown CN ${p.cn}: QnRtn=8` };
  }
}
