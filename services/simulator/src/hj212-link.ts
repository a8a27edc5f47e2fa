/**
 * The network side of one data logger: a TCP connection to the centre (hj212-gateway) that sends
 * its uploads one at a time, like a real logger — wait for the 9014 data ack that echoes the QN,
 * resend on timeout, and after repeated failures drop the connection, reconnect with backoff and
 * keep everything unacknowledged in its cache, replayed in order once the centre answers again.
 * Loggers without an ack flag (HJ/T 212-2005) are fire-and-forget. An upload whose data segment
 * exceeds `maxSegmentBytes` goes out as PNUM/PNO parts (./split.ts), each acknowledged; a split upload
 * is never resent part by part on one connection (the centre would see a duplicate part): a part
 * without its ack drops the connection, and the whole upload is sent again on the next one.
 *
 * It answers the centre's commands as a logger does: 9011 QnRtn=1, then a read's answer (1011 its
 * clock, 1061 its real-time interval, 1063 its minute interval) or the history a 2031/2051/2061 asks
 * for, from the minute/hourly/daily data it stored (`historyHours` deep, under the request's QN, no ack
 * asked), then 9012 (ExeRtn=1, or 100 when it has no data for the period). With `replayLimit`, the
 * cache it replays after an outage is partial: only the newest uploads are resent, the older ones
 * stay only in its storage, for the centre's backfill.
 */
import type { Logger } from '@offsite/runtime';
import net from 'node:net';
import {
  createSm4EcbCipher,
  decodePacket,
  encodePacket,
  executionResult,
  ExeRtn,
  formatDataTime,
  FrameSplitter,
  parseShanghaiTime,
  QnRtn,
  replyFlag,
  requestAck,
  type EncodeOptions,
  type Packet,
  type PacketInput,
} from '@offsite/hj212';
import { MAX_SEGMENT_BYTES, splitPacket } from './split.js';

export type LinkLogger = Pick<Logger, 'debug' | 'info' | 'warn'>;

export interface LinkOptions {
  readonly host: string;
  readonly port: number;
  readonly mn: string;
  readonly sm4Key: string | null;
  /** Real loggers wait ~10 s; accelerated runs use less. */
  readonly ackTimeoutMs: number;
  /** Resends of one packet before the connection is considered broken (HJ 212 default 3). */
  readonly maxResends: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  /** Data segments longer than this are split into PNUM/PNO parts (default 1024, the standard's). */
  readonly maxSegmentBytes?: number;
  readonly logger: LinkLogger;
  /** Called when a packet was acknowledged (or sent, for loggers that ask for no ack). */
  readonly onDelivered?: (p: PacketInput, attempts: number) => void;
  readonly onResend?: (p: PacketInput) => void;
  /** The logger's clock (1011) and intervals (1061, 1063); default the wall clock, 30 s, 600 s. */
  readonly clock?: () => number;
  readonly realtimeIntervalS?: number;
  readonly minuteIntervalS?: number;
  /** How far back its storage answers history requests (data time, hours). Default 72. */
  readonly historyHours?: number;
  /** After an outage, at most this many of the cached uploads are replayed (the newest); default all. */
  readonly replayLimit?: number;
  /** A centre's command answered (`cn`, history packets sent). */
  readonly onCommand?: (cn: string, sent: number) => void;
}

const HISTORY_CNS = new Set(['2031', '2051', '2061']);
const READS: Record<string, (o: LinkOptions) => Record<string, string>> = {
  '1011': (o) => ({ SystemTime: formatDataTime(new Date((o.clock ?? Date.now)())) }),
  '1061': (o) => ({ RtdInterval: String(o.realtimeIntervalS ?? 30) }),
  '1063': (o) => ({ MinInterval: String(Math.round((o.minuteIntervalS ?? 600) / 60)) }),
};

/** DataTime of a stored upload, ms since epoch. */
function dataTimeOf(p: PacketInput): number | null {
  const cp =
    typeof p.cp === 'string'
      ? p.cp
      : (p.cp ?? []).flatMap((item) => item.map((f) => `${f.key}=${f.value}`)).join(';');
  const m = /DataTime=(\d{14})/.exec(cp);
  const t = m ? parseShanghaiTime(m[1]!) : null;
  return t ? Date.parse(t.utc) : null;
}

export interface LinkStats {
  readonly delivered: number;
  readonly resends: number;
  readonly reconnects: number;
  readonly cached: number;
  /** Uploads sent as PNUM/PNO parts, and the parts sent (resends included). */
  readonly splitUploads: number;
  readonly parts: number;
  /** Cached uploads not replayed after an outage (`replayLimit`). */
  readonly dropped: number;
  /** Centre's commands answered, and the history packets sent for them. */
  readonly commands: number;
  readonly historySent: number;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export class Hj212Link {
  private readonly queue: PacketInput[] = [];
  private socket: net.Socket | null = null;
  private splitter = new FrameSplitter();
  private readonly acks = new Map<string, () => void>();
  private online = true;
  private wake: (() => void) | null = null;
  private readonly stop = new AbortController();
  private loop: Promise<void> | null = null;
  private readonly encodeOptions: EncodeOptions;
  private stats = {
    delivered: 0,
    resends: 0,
    reconnects: 0,
    splitUploads: 0,
    parts: 0,
    dropped: 0,
    commands: 0,
    historySent: 0,
  };
  /** Minute, hourly and daily uploads by data time, per CN (the logger's storage). */
  private readonly history = new Map<string, { t: number; p: PacketInput }[]>();
  private backoff: number;

  constructor(private readonly o: LinkOptions) {
    this.encodeOptions = o.sm4Key ? { cipher: createSm4EcbCipher(o.sm4Key) } : {};
    this.backoff = o.reconnectMinMs;
  }

  /** Put an upload in the logger's cache; it is sent when its turn comes and the link is up. */
  enqueue(p: PacketInput): void {
    if (HISTORY_CNS.has(p.cn)) this.store(p);
    this.queue.push(p);
    this.poke();
    if (!this.loop) this.loop = this.run();
  }

  /** Offline scenario: while false the logger has no network (the cache grows). */
  setOnline(online: boolean): void {
    if (this.online === online) return;
    this.online = online;
    if (!online) this.dropSocket();
    else if (this.o.replayLimit !== undefined && this.queue.length > this.o.replayLimit) {
      // A partial cache: the oldest unsent uploads are gone from the resend queue (still stored).
      const n = this.queue.length - this.o.replayLimit;
      this.queue.splice(0, n);
      this.stats.dropped += n;
    }
    this.poke();
  }

  private store(p: PacketInput): void {
    const t = dataTimeOf(p);
    if (t === null) return;
    const list = this.history.get(p.cn) ?? [];
    list.push({ t, p });
    const horizon = t - (this.o.historyHours ?? 72) * 3_600_000;
    while (list.length > 0 && list[0]!.t < horizon) list.shift();
    this.history.set(p.cn, list);
  }

  /** The centre's request: 9011, the answer or the history, 9012. */
  private answer(req: Packet): void {
    const s = this.socket;
    if (!s) return;
    const me = { qn: req.qn, pw: req.pw, mn: req.mn, flag: req.flag };
    const write = (p: PacketInput) => s.write(encodePacket(p, this.encodeOptions));
    const read = READS[req.cn];
    const historic = HISTORY_CNS.has(req.cn);
    if (!read && !historic) {
      write(requestAck(me, QnRtn.CnError));
      return;
    }
    write(requestAck(me, QnRtn.Ready));
    let sent = 0;
    if (read) {
      write({
        qn: req.qn,
        st: req.st,
        cn: req.cn,
        pw: req.pw,
        mn: req.mn,
        flag: replyFlag(req.flag),
        cp: Object.entries(read(this.o)).map(([key, value]) => [{ key, value }]),
      });
    } else {
      const b = parseShanghaiTime(req.params.BeginTime ?? '');
      const e = parseShanghaiTime(req.params.EndTime ?? '');
      const from = b ? Date.parse(b.utc) : NaN;
      const to = e ? Date.parse(e.utc) : NaN;
      for (const h of this.history.get(req.cn) ?? []) {
        if (h.t < from || h.t > to) continue;
        // Under the request's QN, without asking for a 9014 (the 9012 closes the answer).
        write({ ...h.p, qn: req.qn ?? h.p.qn, flag: h.p.flag == null ? h.p.flag : h.p.flag & ~1 });
        sent++;
      }
      this.stats.historySent += sent;
    }
    this.stats.commands++;
    write(executionResult(me, !read && sent === 0 ? ExeRtn.NoData : ExeRtn.Success));
    this.o.onCommand?.(req.cn, sent);
  }

  get pending(): number {
    return this.queue.length;
  }

  snapshot(): LinkStats {
    return { ...this.stats, cached: this.queue.length };
  }

  /** Stop sending; what is still cached is reported, not lost silently. */
  async close(): Promise<number> {
    this.stop.abort();
    this.poke();
    this.dropSocket();
    await this.loop;
    return this.queue.length;
  }

  /** Wait until the cache is empty (or the link is closed). */
  async drained(pollMs = 50): Promise<void> {
    while (this.queue.length > 0 && !this.stop.signal.aborted) await sleep(pollMs, this.stop.signal);
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.stop.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  private dropSocket(): void {
    const s = this.socket;
    this.socket = null;
    this.splitter = new FrameSplitter();
    s?.destroy();
  }

  private connect(): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: this.o.host, port: this.o.port });
      s.setNoDelay(true);
      const fail = (e: Error) => {
        s.destroy();
        reject(e);
      };
      s.once('error', fail);
      s.once('connect', () => {
        s.off('error', fail);
        s.on('error', (e) => this.o.logger.debug({ mn: this.o.mn, err: e.message }, 'socket error'));
        s.on('close', () => {
          if (this.socket === s) this.dropSocket();
          this.poke();
        });
        s.on('data', (chunk) => this.onData(chunk));
        resolve(s);
      });
    });
  }

  private onData(chunk: Buffer): void {
    for (const ev of this.splitter.push(chunk)) {
      if (ev.kind !== 'frame') continue;
      const d = decodePacket(ev.frame);
      if (!d.ok) continue;
      if (d.packet.cn === '9014' && d.packet.qn) this.acks.get(d.packet.qn)?.();
      else if (d.packet.mn === this.o.mn && d.packet.ackRequested) this.answer(d.packet);
    }
  }

  private waitAck(qn: string, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const finish = (ok: boolean) => {
        clearTimeout(t);
        this.acks.delete(qn);
        this.stop.signal.removeEventListener('abort', abort);
        resolve(ok);
      };
      const abort = () => finish(false);
      const t = setTimeout(() => finish(false), ms);
      this.acks.set(qn, () => finish(true));
      this.stop.signal.addEventListener('abort', abort, { once: true });
    });
  }

  private async run(): Promise<void> {
    const signal = this.stop.signal;
    while (!signal.aborted) {
      const head = this.queue[0];
      if (!head || !this.online) {
        await this.idle();
        continue;
      }
      if (!this.socket) {
        try {
          this.socket = await this.connect();
          this.backoff = this.o.reconnectMinMs;
          this.stats.reconnects++;
        } catch (e) {
          this.o.logger.debug(
            { mn: this.o.mn, err: (e as Error).message, retryInMs: this.backoff },
            'connect failed',
          );
          await sleep(this.backoff, signal);
          this.backoff = Math.min(this.backoff * 2, this.o.reconnectMaxMs);
          continue;
        }
      }
      const wantsAck = head.flag !== null && head.flag !== undefined && (head.flag & 1) === 1;
      const parts = splitPacket(head, this.o.maxSegmentBytes ?? MAX_SEGMENT_BYTES, this.encodeOptions);
      let delivered = true;
      let attempt = 0;
      for (const part of parts) {
        const r = await this.sendOne(part, wantsAck, parts.length > 1 ? 0 : this.o.maxResends);
        attempt = Math.max(attempt, r.attempts - 1);
        if (parts.length > 1) this.stats.parts += r.attempts;
        if (!r.delivered) {
          delivered = false;
          break;
        }
      }
      if (delivered && parts.length > 1) this.stats.splitUploads++;
      if (delivered) {
        this.queue.shift();
        this.stats.delivered++;
        this.o.onDelivered?.(head, attempt + 1);
      } else if (!signal.aborted && this.online) {
        this.o.logger.warn(
          { mn: this.o.mn, qn: head.qn, cached: this.queue.length },
          'no data ack, reconnecting',
        );
        this.dropSocket();
        await sleep(this.backoff, signal);
        this.backoff = Math.min(this.backoff * 2, this.o.reconnectMaxMs);
      }
    }
    this.dropSocket();
  }

  /** Writes one frame and waits for its 9014 (resending up to `maxResends` times). */
  private async sendOne(
    p: PacketInput,
    wantsAck: boolean,
    maxResends: number,
  ): Promise<{ delivered: boolean; attempts: number }> {
    const signal = this.stop.signal;
    const frame = encodePacket(p, this.encodeOptions);
    let attempt = 0;
    for (; attempt <= maxResends && this.socket && this.online && !signal.aborted; attempt++) {
      if (attempt > 0) {
        this.stats.resends++;
        this.o.onResend?.(p);
      }
      const ack = wantsAck && p.qn ? this.waitAck(p.qn, this.o.ackTimeoutMs) : null;
      this.socket.write(frame);
      if (!ack || (await ack)) return { delivered: true, attempts: attempt + 1 };
    }
    return { delivered: false, attempts: attempt };
  }
}
