/**
 * What to do with one frame from a data logger: decode under the policy, authenticate MN/PW,
 * reassemble split packets, normalise, and decide the reply. Returns the records to produce (raw
 * archive in and out, telemetry, DLQ) and the reply bytes; the connection writes the reply only
 * after Kafka acknowledged the records. No sockets here.
 */
import {
  dlqRecord,
  kafkaHeaders,
  kafkaMessage,
  kafkaTopics,
  validateTelemetryV1,
  type TelemetryV1,
} from '@offsite/contracts';
import {
  dataAck,
  classifyPacket,
  decideReply,
  decodePacket,
  encodePacket,
  maskPasswords,
  peekHeader,
  QnRtn,
  requestAck,
  type CipherTextEncoding,
  type DecodeResult,
  type Packet,
  type PacketInput,
  type SplitPacketReassembler,
  type TolerancePolicy,
} from '@offsite/hj212';
import { normalizeHj212 } from '@offsite/normalize';
import { passwordMatches, type DeviceDirectory, type KnownDevice } from './device-directory.js';
import type { AuthThrottle } from './guard.js';
import type { OutRecord } from '@offsite/kafka';

export interface Topics {
  readonly telemetry: string;
  readonly raw: string;
  readonly dlq: string;
}

export function topicsWithPrefix(prefix: string): Topics {
  return {
    telemetry: `${prefix}telemetry.v1`,
    raw: `${prefix}hj212.raw.v1`,
    dlq: `${prefix}telemetry.dlq.v1`,
  };
}

export interface ConnectionInfo {
  readonly id: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
}

export type Outcome =
  | 'telemetry'
  | 'accepted'
  | 'split-pending'
  | 'heartbeat'
  | 'auth-pw'
  | 'auth-mn'
  | 'auth-throttled'
  | 'device-disabled'
  | 'crc-error'
  | 'invalid'
  | 'garbage';

export interface HandledFrame {
  readonly outcome: Outcome;
  readonly records: OutRecord[];
  readonly reply: Buffer | null;
  readonly replyCn: string | null;
  readonly dlqReason: string | null;
  readonly mn: string | null;
  readonly detail: string;
  /** The frame carried an MN/PW the registry accepted. */
  readonly authenticated: boolean;
  /** The decoded packet, when it was authenticated. */
  readonly packet: Packet | null;
}

export interface HandlerContext {
  readonly policy: TolerancePolicy;
  readonly maxSegmentBytes: number;
  readonly cipherEncoding: CipherTextEncoding;
  readonly directory: DeviceDirectory;
  readonly topics: Topics;
  readonly nextId: () => string;
  /** Failed authentications per source and per MN; absent = no throttling. */
  readonly throttle?: AuthThrottle;
  /**
   * Whether the centre's command in flight to `mn` has the QN `qn`. A logger's answer to a read
   * (1011, 1061, 1063 carry the request's CN and QN) is then not a request, and gets no 9011.
   */
  readonly awaitsAnswer?: (mn: string, qn: string) => boolean;
}

export interface ConnectionState {
  readonly info: ConnectionInfo;
  readonly reassembler: SplitPacketReassembler;
  /** The key the auth throttle counts the connection's source under (guard.ts `sourceKey`). */
  readonly source?: string;
  /** Set once a frame of the connection carried a valid MN/PW. */
  authenticated?: boolean;
}

const CRC_CODES = new Set([
  'crc-mismatch',
  'crc-malformed',
  'crc-modbus-swapped',
  'crc-modbus',
  'crc-lowercase',
]);

function segmentOf(frame: Buffer): Uint8Array {
  let end = frame.length;
  if (frame[end - 2] === 0x0d && frame[end - 1] === 0x0a) end -= 2;
  return frame.subarray(6, Math.max(6, end - 4));
}

function json(value: unknown): string {
  return JSON.stringify(value);
}

const connectionJson = new WeakMap<ConnectionInfo, string>();

/** The `connection` object of a raw record, serialised once per connection. */
function connectionOf(conn: ConnectionInfo): string {
  let text = connectionJson.get(conn);
  if (text === undefined) {
    text = json({
      id: conn.id,
      remoteAddress: conn.remoteAddress,
      remotePort: conn.remotePort,
      localPort: conn.localPort,
    });
    connectionJson.set(conn, text);
  }
  return text;
}

/**
 * One `hj212.raw.v1` record, with the PW (and NewPW) values masked byte for byte. Its JSON is written directly (the connection part cached, the base64
 * frame needing no escaping) instead of building an object for JSON.stringify: two of these go out
 * for every packet. The unit test checks it parses to the contract's shape.
 */
export function rawRecord(
  ctx: HandlerContext,
  conn: ConnectionInfo,
  id: string,
  bytes: Buffer,
  at: string,
  direction: 'in' | 'out',
  fields: {
    mn?: string | null;
    cn?: string | null;
    error?: { code: string; message: string };
    irregularities?: readonly string[];
  },
): OutRecord {
  const value =
    `{"schema":"hj212.raw.v1","id":${json(id)},"receivedAt":${json(at)},"connection":${connectionOf(conn)}` +
    // MN and CN as found, when they fit the contract (a mangled header can run into the next field).
    (fields.mn && fields.mn.length <= 64 ? `,"mn":${json(fields.mn)}` : '') +
    (fields.cn && fields.cn.length <= 8 ? `,"cn":${json(fields.cn)}` : '') +
    `,"raw":"${maskPasswords(bytes).toString('base64')}","decoded":${fields.error === undefined}` +
    (fields.error ? `,"error":${json({ code: fields.error.code, message: fields.error.message })}` : '') +
    `,"irregularities":${fields.irregularities && fields.irregularities.length > 0 ? json(fields.irregularities) : '[]'}` +
    `,"direction":"${direction}"}`;
  return {
    topic: ctx.topics.raw,
    message: { key: conn.id, value, headers: kafkaHeaders('hj212.raw.v1', id), timestamp: Date.parse(at) },
  };
}

function dlqOut(
  ctx: HandlerContext,
  conn: ConnectionInfo,
  rawId: string,
  bytes: Buffer,
  at: string,
  reason: { code: string; message: string },
  extra: {
    enterpriseId?: string | undefined;
    deviceId?: string | null | undefined;
    irregularities?: readonly string[] | undefined;
    count?: number;
  },
): OutRecord {
  const rec = dlqRecord({
    source: 'hj212',
    origin: {
      transport: 'tcp',
      connectionId: conn.id,
      remoteAddress: conn.remoteAddress,
      remotePort: conn.remotePort,
      localPort: conn.localPort,
    },
    identity: [rawId],
    code: reason.code,
    message: reason.message,
    raw: maskPasswords(bytes),
    receivedAt: at,
    enterpriseId: extra.enterpriseId,
    deviceId: extra.deviceId,
    irregularities: extra.irregularities,
    count: extra.count,
  });
  return {
    topic: ctx.topics.dlq,
    message: kafkaMessage(kafkaTopics.telemetryDlq, rec, { json: json(rec), timestamp: Date.parse(at) }),
  };
}

/**
 * Bytes that are not a frame (the splitter skipped them), or a run of such pieces from one
 * connection kept together (`count` pieces, their bytes in order): one DLQ record and one raw
 * archive record, no reply.
 */
export function handleGarbage(
  ctx: HandlerContext,
  conn: ConnectionInfo,
  bytes: Buffer,
  error: { code: string; message: string },
  at: string,
  count = 1,
): HandledFrame {
  const rawId = ctx.nextId();
  const reason = `hj212.${error.code}`;
  return {
    outcome: 'garbage',
    records: [
      rawRecord(ctx, conn, rawId, bytes, at, 'in', { error }),
      dlqOut(ctx, conn, rawId, bytes, at, { code: reason, message: error.message }, { count }),
    ],
    reply: null,
    replyCn: null,
    dlqReason: reason,
    mn: null,
    detail: error.message,
    authenticated: false,
    packet: null,
  };
}

/**
 * The reply's bytes, or null when it would identify nothing: the reply builders leave out a QN or MN
 * a header cannot carry (`=`, `;`, spaces, control bytes), and with neither left there is no reply.
 */
function encodeReply(reply: PacketInput): Buffer | null {
  return (reply.qn ?? null) === null && (reply.mn ?? null) === null ? null : encodePacket(reply);
}

export async function handleFrame(
  ctx: HandlerContext,
  state: ConnectionState,
  frame: Buffer,
  at: string,
  nowMs: number,
): Promise<HandledFrame> {
  const conn = state.info;
  const rawId = ctx.nextId();
  const header = frame.length > 10 ? peekHeader(segmentOf(frame)) : null;
  const device = header?.mn ? await ctx.directory.lookup(header.mn) : null;

  const result: DecodeResult = decodePacket(frame, {
    policy: ctx.policy,
    maxSegmentBytes: ctx.maxSegmentBytes,
    cipherEncoding: ctx.cipherEncoding,
    cipherFor: (h) => (device && h.flag !== null && h.flag >> 2 === 2 ? device.cipher : undefined),
  });

  const records: OutRecord[] = [];
  let authed = false;
  const finish = (
    outcome: Outcome,
    reply: PacketInput | null,
    detail: string,
    dlq?: { code: string; message: string },
  ): HandledFrame => {
    const mn = result.ok ? result.packet.mn : (result.header?.mn ?? header?.mn ?? null);
    const irregularities = result.ok ? result.packet.irregularities : (result.irregularities ?? []);
    if (dlq) {
      records.push(
        dlqOut(ctx, conn, rawId, frame, at, dlq, {
          enterpriseId: device?.enterpriseId,
          deviceId: mn,
          irregularities,
        }),
      );
    }
    const bytes = reply ? encodeReply(reply) : null;
    if (reply && bytes) {
      records.push(
        rawRecord(ctx, conn, ctx.nextId(), bytes, at, 'out', { mn: reply.mn ?? null, cn: reply.cn }),
      );
    }
    return {
      outcome,
      records,
      reply: bytes,
      replyCn: bytes ? (reply?.cn ?? null) : null,
      dlqReason: dlq?.code ?? null,
      mn,
      detail,
      authenticated: authed,
      packet: authed && result.ok ? result.packet : null,
    };
  };

  if (!result.ok) {
    records.push(
      rawRecord(ctx, conn, rawId, frame, at, 'in', {
        mn: result.header?.mn ?? header?.mn ?? null,
        cn: result.header?.cn ?? header?.cn ?? null,
        error: { code: result.error.code, message: result.error.message },
        irregularities: result.irregularities ?? [],
      }),
    );
    const decision = decideReply(result);
    const outcome: Outcome = CRC_CODES.has(result.error.code) ? 'crc-error' : 'invalid';
    return finish(outcome, decision.reply, decision.reason, {
      code: `hj212.${result.error.code}`,
      message: result.error.message,
    });
  }

  const packet = result.packet;
  records.push(
    rawRecord(ctx, conn, rawId, frame, at, 'in', {
      mn: packet.mn,
      cn: packet.cn,
      irregularities: packet.irregularities,
    }),
  );
  const source = state.source ?? conn.remoteAddress;
  const throttled = ctx.throttle?.blocked(source, packet.mn, nowMs, state.authenticated === true) ?? null;
  if (throttled) {
    const message =
      throttled === 'source'
        ? 'too many failed authentications from this source address; not answered'
        : 'too many wrong PWs for this MN, and this source used its attempts for it; not answered';
    return finish('auth-throttled', null, message, { code: `hj212.auth-throttled-${throttled}`, message });
  }
  const auth = authenticate(packet, device);
  if (auth) ctx.throttle?.failure(source, packet.mn, auth.outcome === 'auth-pw', nowMs);
  else ctx.throttle?.success(source, packet.mn);
  if (auth) {
    return finish(auth.outcome, requestAck(packet, auth.qnRtn), auth.message, {
      code: auth.dlq,
      message: auth.message,
    });
  }
  const dev = device as KnownDevice;
  authed = true;
  state.authenticated = true;

  let whole: Packet | null = packet;
  if (packet.split) {
    const r = state.reassembler.add(packet, nowMs);
    if (r.status === 'error') {
      return finish('invalid', requestAck(packet, QnRtn.Rejected), r.error.message, {
        code: `hj212.${r.error.code}`,
        message: r.error.message,
      });
    }
    whole = r.status === 'complete' ? r.packet : null;
  }

  const answer =
    packet.qn !== null &&
    classifyPacket(packet) === 'request' &&
    ctx.awaitsAnswer?.(packet.mn, packet.qn) === true;
  const decision = answer
    ? { reply: null, reason: `answer ${packet.cn} to the centre's command ${packet.qn}: not answered` }
    : decideReply(result);
  // The HJ 212-2025 heartbeat is always answered, so the logger knows the link is up.
  const reply = packet.cn === '9015' ? dataAck(packet) : decision.reply;
  if (!whole) return finish('split-pending', reply, 'split part received');
  if (packet.cn === '9015') return finish('heartbeat', reply, 'heartbeat');

  const n = normalizeHj212(whole, {
    enterpriseId: dev.enterpriseId,
    siteId: dev.outletId,
    deviceId: dev.mn,
    minuteIntervalS: dev.minuteIntervalS,
    rawRef: rawId,
    receivedAt: at,
  });
  if (!n.ok) {
    if (n.kind === 'not-telemetry') return finish('accepted', reply, n.message);
    return finish('invalid', requestAck(packet, QnRtn.Rejected), n.message, {
      code: `normalize.${n.reason}`,
      message: n.message,
    });
  }
  const valid = validateTelemetryV1(n.event);
  if (!valid.ok) {
    const message = valid.errors.join('; ');
    return finish('invalid', requestAck(packet, QnRtn.Rejected), message, {
      code: 'schema.invalid',
      message,
    });
  }
  records.push(telemetryRecord(ctx, n.event, at));
  return finish('telemetry', reply, decision.reason);
}

/**
 * The Kafka timestamp is the receive time, not the data time: the broker's time retention (7 days in
 * production, 24 h on dev servers) judges a segment by its largest record timestamp, so records
 * stamped with an old DataTime (a logger's backlog, a replay, the flows' simulated yesterday) were
 * deleted at the next retention check, before a consumer that was behind (the influx-writer paused
 * while InfluxDB was down) had read them: it got OFFSET_OUT_OF_RANGE, KafkaJS reset the position, and
 * readings the logger had been acknowledged for never reached InfluxDB. The data time is in the value.
 */
export function telemetryRecord(ctx: HandlerContext, event: TelemetryV1, at: string): OutRecord {
  return {
    topic: ctx.topics.telemetry,
    message: kafkaMessage(kafkaTopics.telemetry, event, { json: json(event), timestamp: Date.parse(at) }),
  };
}

function authenticate(
  packet: Packet,
  device: KnownDevice | null,
): { outcome: Outcome; qnRtn: QnRtn; dlq: string; message: string } | null {
  if (!device || device.mn !== packet.mn) {
    return {
      outcome: 'auth-mn',
      qnRtn: QnRtn.MnError,
      dlq: 'registry.unknown-device',
      message: 'MN is not in the registry',
    };
  }
  if (!device.enabled) {
    return {
      outcome: 'device-disabled',
      qnRtn: QnRtn.MnError,
      dlq: 'registry.device-disabled',
      message: 'device is disabled in the registry',
    };
  }
  if (!passwordMatches(packet.pw, device.password)) {
    return {
      outcome: 'auth-pw',
      qnRtn: QnRtn.PasswordError,
      dlq: 'hj212.auth-failed',
      message: 'PW does not match the registry',
    };
  }
  return null;
}
