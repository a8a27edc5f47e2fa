/** Replies a centre sends (9011–9014), the 9015 heartbeat, and the centre's requests. */
import type { CpItem } from './cp.js';
import type { PacketInput } from './encoder.js';
import { isHeaderValue, paramsCp } from './encoder.js';
import { VERSION_BITS, type ProtocolVersion } from './packet.js';
import { formatDataTime } from './time.js';

/** `QnRtn` of a 9011 request acknowledgement. */
export const QnRtn = {
  Ready: 1,
  Rejected: 2,
  PasswordError: 3,
  MnError: 4,
  StError: 5,
  FlagError: 6,
  QnError: 7,
  CnError: 8,
  CrcError: 9,
  Unknown: 100,
} as const;
export type QnRtn = (typeof QnRtn)[keyof typeof QnRtn];

/** `ExeRtn` of a 9012 execution result. */
export const ExeRtn = {
  Success: 1,
  Failed: 2,
  ConditionError: 3,
  Timeout: 4,
  Busy: 5,
  Fault: 6,
  NoData: 100,
} as const;
export type ExeRtn = (typeof ExeRtn)[keyof typeof ExeRtn];

/** The system code of system interaction (replies). */
export const ST_SYSTEM = '91';

/** What a reply needs from the packet it answers (fields may be missing on a bad packet). */
export interface ReplyTarget {
  readonly qn: string | null;
  readonly pw: string | null;
  readonly mn: string | null;
  readonly flag: number | null;
}

/**
 * A reply keeps the sender's protocol version and asks for no acknowledgement: the standard's 9014
 * answers Flag=5 with Flag=4. A sender without Flag (2005 style) is answered as 2017 (Flag=4).
 */
export function replyFlag(requestFlag: number | null): number {
  return requestFlag === null ? VERSION_BITS['2017'] << 2 : requestFlag & ~3 & 0xff;
}

/** A field echoed in a reply, or null when a header cannot carry what the sender wrote. */
const echo = (value: string | null): string | null => (value !== null && isHeaderValue(value) ? value : null);

/**
 * A reply echoes the sender's QN, PW and MN. A value a header cannot carry (an MN or QN holding
 * `=`, `;`, spaces or control bytes) is left out, so building a reply never throws; `decideReply`
 * sends none when neither QN nor MN is left.
 */
function reply(to: ReplyTarget, cn: string, cp: readonly CpItem[]): PacketInput {
  return {
    qn: echo(to.qn),
    st: ST_SYSTEM,
    cn,
    pw: echo(to.pw),
    mn: echo(to.mn),
    flag: replyFlag(to.flag),
    cp,
  };
}

export function requestAck(to: ReplyTarget, code: QnRtn): PacketInput {
  return reply(to, '9011', paramsCp({ QnRtn: code }));
}

export function executionResult(to: ReplyTarget, code: ExeRtn): PacketInput {
  return reply(to, '9012', paramsCp({ ExeRtn: code }));
}

export function notificationAck(to: ReplyTarget): PacketInput {
  return reply(to, '9013', []);
}

export function dataAck(to: ReplyTarget): PacketInput {
  return reply(to, '9014', []);
}

export interface DeviceIdentity {
  readonly st: string;
  readonly pw: string;
  readonly mn: string;
  /** Default 2017. */
  readonly version?: ProtocolVersion;
}

function flagOf(device: DeviceIdentity, ack: boolean): number {
  return (VERSION_BITS[device.version ?? '2017'] << 2) | (ack ? 1 : 0);
}

/** HJ 212-2025 heartbeat sent by a data logger. */
export function heartbeat(device: DeviceIdentity, qn: string, at: Date, ackRequested = false): PacketInput {
  return {
    qn,
    st: device.st,
    cn: '9015',
    pw: device.pw,
    mn: device.mn,
    flag: flagOf(device, ackRequested),
    cp: [[{ key: 'DataTime', value: formatDataTime(at) }]],
  };
}

/** A request from the centre to a device; it asks for the device's 9011 (Flag bit A set). */
export function centreRequest(
  device: DeviceIdentity,
  qn: string,
  cn: string,
  cp: readonly CpItem[] = [],
): PacketInput {
  return { qn, st: device.st, cn, pw: device.pw, mn: device.mn, flag: flagOf(device, true), cp };
}

/** 1000: set the reply timeout (seconds) and retry count. */
export const setTimeoutAndRetries = (
  d: DeviceIdentity,
  qn: string,
  overTimeS: number,
  reCount: number,
): PacketInput => centreRequest(d, qn, '1000', paramsCp({ OverTime: overTimeS, ReCount: reCount }));

/** 1011: read the device time (optionally of one analyser, PolId). */
export const getDeviceTime = (d: DeviceIdentity, qn: string, polId?: string): PacketInput =>
  centreRequest(d, qn, '1011', polId === undefined ? [] : paramsCp({ PolId: polId }));

/** 1012: set the device time. */
export const setDeviceTime = (d: DeviceIdentity, qn: string, time: Date, polId?: string): PacketInput =>
  centreRequest(
    d,
    qn,
    '1012',
    paramsCp({ ...(polId === undefined ? {} : { PolId: polId }), SystemTime: formatDataTime(time) }),
  );

/** 1061 / 1062: read / set the real-time data interval (seconds). */
export const getRealtimeInterval = (d: DeviceIdentity, qn: string): PacketInput =>
  centreRequest(d, qn, '1061');
export const setRealtimeInterval = (d: DeviceIdentity, qn: string, seconds: number): PacketInput =>
  centreRequest(d, qn, '1062', paramsCp({ RtdInterval: seconds }));

/** 1063 / 1064: read / set the minute data interval (minutes). */
export const getMinuteInterval = (d: DeviceIdentity, qn: string): PacketInput => centreRequest(d, qn, '1063');
export const setMinuteInterval = (d: DeviceIdentity, qn: string, minutes: number): PacketInput =>
  centreRequest(d, qn, '1064', paramsCp({ MinInterval: minutes }));

/** 1072: set the device password. */
export const setPassword = (d: DeviceIdentity, qn: string, newPw: string): PacketInput =>
  centreRequest(d, qn, '1072', paramsCp({ NewPW: newPw }));

export type HistoryCn = '2031' | '2051' | '2061';

/** History request (daily 2031, minute 2051, hourly 2061) for backfill after an outage. */
export const historyRequest = (
  d: DeviceIdentity,
  qn: string,
  cn: HistoryCn,
  begin: Date,
  end: Date,
): PacketInput =>
  centreRequest(d, qn, cn, paramsCp({ BeginTime: formatDataTime(begin), EndTime: formatDataTime(end) }));
