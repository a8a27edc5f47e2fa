/**
 * The HJ 212 TCP server: one session per data-logger connection (frame splitter, split-packet
 * reassembler, idle timeout), every frame handed to `handleFrame`, its records published through the
 * shared publisher, and its reply written only after Kafka acknowledged them, in arrival order.
 * Backpressure: frames read wait in the session's queue while its frames in flight reach a limit or
 * while the publisher is full (the socket paused meanwhile), and go on when they drain.
 *
 * Defences (see guard.ts): connections per source address and in total are capped; a partial frame
 * must be completed within a deadline; consecutive garbage pieces are kept together as one DLQ and
 * one raw record with their count; a connection that exceeds its garbage budget (bytes, or bad
 * frames without a valid one) is closed, and everything it sent that was not handled goes into that
 * one record; connections stay on the tight budget until their first frame with a valid MN/PW and
 * are closed when it does not come within a deadline; sources (IPv6 by /64) and MNs with too many
 * failed authentications are throttled, never an authenticated connection or a (source, MN) pair
 * that authenticated before; warnings a sender can provoke are rate-limited, the gateway's own
 * failures never.
 *
 * Over 500 lines because `createGateway` is one closure over the connections it serves: accepting,
 * reading, queueing, replying and closing share each session's state and the server-wide counts. Its
 * settings are in gateway-options.ts, the work per frame in packet-handler.ts, the defences in guard.ts.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import {
  FrameSplitter,
  parseShanghaiTime,
  SplitPacketReassembler,
  type DeviceIdentity,
  type Packet,
  type SplitterEvent,
} from '@offsite/hj212';
import { errorCode, errorMessage, withTimeout, type Logger } from '@offsite/runtime';
import { createCommandEngine, type CommandLink } from './command-engine.js';
import { DEFAULT_COMMANDS, DEFAULT_GUARD, type GatewayOptions } from './gateway-options.js';
import {
  AuthThrottle,
  ConnectionBudget,
  LogLimiter,
  SourceCounter,
  sourceKey,
  type BudgetLimits,
  type BudgetVerdict,
} from './guard.js';
import {
  handleFrame,
  handleGarbage,
  rawRecord,
  type ConnectionInfo,
  type ConnectionState,
  type HandledFrame,
  type HandlerContext,
} from './packet-handler.js';
import { plainAddress, readProxyHeader } from './proxy-protocol.js';

export { topicsWithPrefix, type Topics } from './packet-handler.js';
export { createPublisher, type Publisher, type BatchProducer } from '@offsite/kafka';
export { createDeviceDirectory, type DeviceDirectory, type DeviceRecord } from './device-directory.js';
export { createGatewayMetrics, type GatewayMetrics } from './metrics.js';
export type { AuthThrottleOptions, BudgetLimits } from './guard.js';
export { createCommandStore, type CommandStore } from './command-store.js';
export {
  DEFAULT_COMMANDS,
  DEFAULT_GUARD,
  type CommandOptions,
  type GatewayOptions,
  type GuardOptions,
} from './gateway-options.js';

/** Uploads whose QN is the logger's clock now: real-time data and the heartbeat (never replayed history). */
const CLOCK_CNS: ReadonlySet<string> = new Set(['2011', '9015']);

export interface Gateway {
  /** Start listening; resolves with the bound port. */
  listen(): Promise<number>;
  readonly connections: number;
  /** Frames read and not yet answered (queued or waiting for Kafka), over every connection, open or closed. */
  readonly pending: number;
  readonly listening: boolean;
  /** Stop accepting, let sessions finish the frames in flight, then close them (under a deadline). */
  close(deadlineMs: number): Promise<void>;
}

interface Queued {
  readonly event: SplitterEvent;
  readonly readAt: Date;
}

interface Session {
  readonly socket: net.Socket;
  inFlight: number;
  paused: boolean;
  tail: Promise<void>;
  /** Frames read and not yet handed to the handler (the socket is paused while any wait). */
  readonly queue: Queued[];
  /** Takes queued frames while the limits allow; called whenever a frame finishes or Kafka drains. */
  pump(): void;
  /** Hand over the garbage run held back for the next frame (at shutdown). */
  flushGarbage(): void;
}

/** Consecutive garbage pieces of one connection, kept as one record. */
interface GarbageRun {
  readonly pieces: Buffer[];
  bytes: number;
  count: number;
  readonly codes: Map<string, number>;
  readonly readAt: Date;
}

export function createGateway(opts: GatewayOptions): Gateway {
  const log = opts.logger.child({ component: 'hj212-gateway' });
  const now = opts.now ?? (() => new Date());
  const guard = opts.guard ?? DEFAULT_GUARD;
  const authenticatedLimits: BudgetLimits = {
    ...guard.authenticated,
    framesInFlight: opts.maxFramesInFlight,
  };
  const instance = randomBytes(4).toString('hex');
  let connSeq = 0;
  let recSeq = 0;
  const sessions = new Set<Session>();
  let open = 0;
  let stopping = false;
  const throttle = new AuthThrottle(guard.auth);
  const perSource = new SourceCounter();
  const logLimiter = new LogLimiter(guard.logLinesPerSecond);
  const commandOptions = opts.commands ?? DEFAULT_COMMANDS;
  const engine = createCommandEngine({
    ...commandOptions,
    calibrationExpiryMs: Math.max(commandOptions.calibrationIntervalMs, commandOptions.timeoutMs),
    store: opts.commandStore,
    instance,
    metrics: opts.metrics,
    logger: log,
  });
  const ctx: HandlerContext = {
    policy: opts.policy,
    maxSegmentBytes: opts.maxSegmentBytes,
    cipherEncoding: opts.cipherEncoding,
    directory: opts.directory,
    topics: opts.topics,
    nextId: () => `raw-${instance}-${(recSeq++).toString(36)}`,
    throttle,
    awaitsAnswer: (mn, qn) => engine.awaits(mn, qn),
  };
  const m = opts.metrics;

  /** A warning a sender can provoke: written unless over the rate, with the count suppressed before it. */
  const warn = (l: Logger, fields: Record<string, unknown>, message: string) => {
    const t = logLimiter.take(Date.now());
    if (!t.ok) {
      m.logSuppressed.inc();
      return;
    }
    l.warn(t.suppressed > 0 ? { ...fields, suppressedBefore: t.suppressed } : fields, message);
  };

  opts.publisher.onDrain(() => {
    for (const s of sessions) s.pump();
  });

  const trustedProxies = new Set((guard.trustedProxies ?? []).map(plainAddress));
  const server = net.createServer({ noDelay: true }, (socket) => {
    const peer = plainAddress(socket.remoteAddress ?? 'unknown');
    if (!trustedProxies.has(peer))
      return onConnection(socket, socket.remoteAddress ?? 'unknown', socket.remotePort ?? 0);
    readProxyHeader(
      socket,
      guard.proxyHeaderDeadlineMs ?? 5_000,
      (source) => onConnection(socket, source?.address ?? peer, source?.port ?? socket.remotePort ?? 0, peer),
      (reason) => {
        m.connectionsTotal.inc({ event: 'rejected-proxy-header' });
        warn(
          log,
          { proxy: peer, reason },
          'connection from a trusted proxy closed: bad PROXY protocol header',
        );
      },
    );
  });
  server.maxConnections = opts.maxConnections;
  server.on('drop', (data) => {
    m.connectionsTotal.inc({ event: 'rejected-total-cap' });
    warn(
      log,
      { remote: data?.remoteAddress, maxConnections: opts.maxConnections },
      'connection refused: total cap',
    );
  });

  /** `remote`/`remotePort`: the logger's (from the PROXY header when `proxy` relayed it). */
  function onConnection(socket: net.Socket, remote: string, remotePort: number, proxy?: string): void {
    // Failed authentications alone never refuse a connection: a logger behind the same address
    // may have authenticated before, which only its frames tell (the per-frame check decides).
    const source = sourceKey(remote);
    if (perSource.count(source) >= guard.maxConnectionsPerSource) {
      m.connectionsTotal.inc({ event: 'rejected-per-source' });
      warn(log, { remote, max: guard.maxConnectionsPerSource }, 'connection refused: per-source cap');
      socket.destroy();
      return;
    }
    perSource.add(source);
    const info: ConnectionInfo = {
      id: `c-${instance}-${(connSeq++).toString(36)}`,
      remoteAddress: remote,
      remotePort,
      localPort: socket.localPort ?? 0,
    };
    const clog = log.child({
      connectionId: info.id,
      remote: `${info.remoteAddress}:${info.remotePort}`,
      ...(proxy ? { proxy } : {}),
    });
    const splitter = new FrameSplitter({ policy: opts.policy, maxSegmentBytes: opts.maxSegmentBytes });
    const state: ConnectionState = {
      info,
      source,
      reassembler: new SplitPacketReassembler({ timeoutMs: opts.splitTimeoutMs }),
    };
    const budget = new ConnectionBudget(guard.unauthenticated, authenticatedLimits);
    let run: GarbageRun | null = null;
    let closing: string | null = null;
    let socketClosed = false;
    let frameTimer: NodeJS.Timeout | null = null;
    let authTimer: NodeJS.Timeout | null = setTimeout(() => {
      authTimer = null;
      if (!state.authenticated && !socketClosed) closeFor('auth-deadline');
    }, guard.authDeadlineMs);
    const s: Session = {
      socket,
      inFlight: 0,
      paused: false,
      tail: Promise.resolve(),
      queue: [],
      pump: () => pump(),
      flushGarbage: () => {
        if (s.queue.length === 0) flushRun();
      },
    };
    sessions.add(s);
    open += 1;
    m.connections.inc();
    m.unauthenticated.inc();
    m.connectionsTotal.inc({ event: 'accepted' });
    clog.debug({}, 'connection accepted');
    socket.setTimeout(opts.idleTimeoutMs);
    socket.on('timeout', () => {
      m.connectionsTotal.inc({ event: 'idle-timeout' });
      clog.info({ idleTimeoutMs: opts.idleTimeoutMs }, 'closing idle connection');
      socket.destroy();
    });
    socket.on('error', (err) => clog.debug({ err: err.message }, 'socket error'));
    socket.on('close', () => {
      socketClosed = true;
      if (frameTimer) clearTimeout(frameTimer);
      if (authTimer) clearTimeout(authTimer);
      // A partial frame left when the connection ends is kept, not dropped.
      for (const ev of splitter.end()) s.queue.push({ event: ev, readAt: now() });
      perSource.remove(source);
      for (const mn of links.keys()) engine.detach(mn, s);
      open -= 1;
      m.connections.dec();
      if (!budget.isAuthenticated) m.unauthenticated.dec();
      m.connectionsTotal.inc({ event: 'closed' });
      pump();
    });

    const pauseSocket = () => {
      if (!s.paused) {
        s.paused = true;
        m.paused.inc();
        socket.pause();
      }
    };

    const submit = (readAt: Date, work: () => Promise<HandledFrame>) => {
      s.inFlight += 1;
      const started = work().then(async (h) => {
        await opts.publisher.publish(h.records);
        return h;
      });
      started.catch(() => undefined); // handled in order below; avoid an unhandled-rejection crash meanwhile
      // Replies go out in the order the frames arrived, each only after its records are durable.
      s.tail = s.tail.then(async () => {
        try {
          const h = await started;
          m.packets.inc({ outcome: h.outcome });
          if (h.dlqReason) m.dlq.inc({ reason: h.dlqReason });
          const good =
            h.outcome === 'telemetry' ||
            h.outcome === 'accepted' ||
            h.outcome === 'heartbeat' ||
            h.outcome === 'split-pending';
          if (!good) warn(clog, { mn: h.mn, outcome: h.outcome, reason: h.dlqReason }, h.detail);
          if (h.outcome !== 'garbage') {
            const wasAuthenticated = budget.isAuthenticated;
            if (good || h.authenticated) budget.validFrame(h.authenticated);
            if (!wasAuthenticated && budget.isAuthenticated && !socketClosed) m.unauthenticated.dec();
            if (!good) {
              if (h.outcome === 'auth-throttled' && !budget.isAuthenticated) closeFor('auth-throttled');
              else overBudget(budget.badFrame());
            }
          }
          if (h.reply && !socket.destroyed) {
            socket.write(h.reply);
            m.replies.inc({ cn: h.replyCn ?? 'none' });
            m.replyLatency.observe((Date.now() - readAt.getTime()) / 1000);
          }
          if (h.packet && !socket.destroyed) onPacket(h.packet, readAt);
        } catch (err) {
          // Kafka did not acknowledge (or the registry could not be read): no reply, so the logger
          // sends the packet again.
          const kafka = errorCode(err) === 'KAFKA_PRODUCE_FAILED';
          m.packets.inc({ outcome: kafka ? 'kafka-failed' : 'internal-error' });
          // Never rate-limited: a sender's noise must not hide that the gateway failed a packet.
          clog.warn(
            { err: errorMessage(err), code: errorCode(err) },
            'packet not made durable; not replying',
          );
        } finally {
          s.inFlight -= 1;
          pump();
        }
      });
    };

    /** The MNs authenticated on this connection, as the command engine reaches them. */
    const links = new Map<string, CommandLink & { device: DeviceIdentity }>();
    const linkOf = (p: Packet): CommandLink => {
      const had = links.get(p.mn);
      const device: DeviceIdentity = { st: p.st, pw: p.pw, mn: p.mn, version: p.version ?? '2017' };
      if (had && had.device.st === p.st && had.device.pw === p.pw && had.device.version === device.version)
        return had;
      const link = {
        owner: s,
        device,
        send: async (bytes: Buffer, cn: string) => {
          // Archived (acks=-1) before it is written, as replies are.
          await opts.publisher.publish([
            rawRecord(ctx, info, ctx.nextId(), bytes, now().toISOString(), 'out', { mn: p.mn, cn }),
          ]);
          if (socket.destroyed) throw new Error('the connection closed');
          socket.write(bytes);
        },
      };
      links.set(p.mn, link);
      return link;
    };

    /** What an authenticated packet means for the centre's commands. */
    const onPacket = (p: Packet, readAt: Date) => {
      engine.attach(p.mn, linkOf(p));
      engine.onPacket(p.mn, p);
      if (p.cn === '1013') engine.calibrate(p.mn, 'logger-asked', 'the logger asked (1013)');
      else if (commandOptions.clockDriftMaxS > 0 && CLOCK_CNS.has(p.cn) && p.qn !== null) {
        const clock = parseShanghaiTime(p.qn);
        if (!clock) return;
        const driftS = (Date.parse(clock.utc) - readAt.getTime()) / 1000;
        if (Math.abs(driftS) > commandOptions.clockDriftMaxS) {
          m.clockDrift.observe(Math.abs(driftS));
          engine.calibrate(p.mn, 'clock-drift', `clock ${driftS.toFixed(0)} s off the receive time`);
        }
      }
    };

    const flushRun = () => {
      const r = run;
      if (!r) return;
      run = null;
      const bytes = r.pieces.length === 1 ? (r.pieces[0] as Buffer) : Buffer.concat(r.pieces, r.bytes);
      const [only] = r.codes.keys();
      const code = r.codes.size === 1 && r.count === 1 && only ? only : 'garbage';
      const what = [...r.codes].map(([c, n]) => `${n} ${c}`).join(', ');
      const message =
        (r.count === 1 ? `${r.bytes} bytes (${what})` : `${r.count} pieces, ${r.bytes} bytes (${what})`) +
        ' outside any valid frame' +
        (closing ? `; connection closed: ${closing}` : '');
      m.garbageBytes.inc(r.bytes);
      const garbage = handleGarbage(ctx, info, bytes, { code, message }, r.readAt.toISOString(), r.count);
      submit(r.readAt, () => Promise.resolve(garbage));
    };

    const addToRun = (bytes: Buffer, code: string, readAt: Date) => {
      run ??= { pieces: [], bytes: 0, count: 0, codes: new Map(), readAt };
      run.pieces.push(bytes);
      run.bytes += bytes.length;
      run.count += 1;
      run.codes.set(code, (run.codes.get(code) ?? 0) + 1);
    };

    /** Close for a defence: what was read and not handled goes into the garbage run, kept. */
    const closeFor = (reason: string) => {
      if (closing) return;
      closing = reason;
      if (authTimer) clearTimeout(authTimer);
      m.connectionsTotal.inc({ event: reason });
      // Garbage that exhausts an unauthenticated connection's budget counts as a failed
      // authentication of its source (so reconnecting does not buy a fresh budget forever).
      if (!state.authenticated && (reason === 'garbage-budget' || reason === 'bad-frame-budget'))
        throttle.failure(source, null, false, Date.now());
      warn(clog, { reason, authenticated: budget.isAuthenticated }, 'closing connection');
      for (const ev of splitter.end()) s.queue.push({ event: ev, readAt: now() });
      for (const q of s.queue.splice(0)) {
        addToRun(
          q.event.kind === 'frame' ? q.event.frame : q.event.bytes,
          q.event.kind === 'frame' ? 'unhandled-frame' : q.event.error.code,
          q.readAt,
        );
      }
      flushRun();
      socket.destroy();
    };

    const overBudget = (v: BudgetVerdict) => {
      if (v !== 'ok') closeFor(v);
    };

    function pump(): void {
      while (s.queue.length > 0 && !closing) {
        if (s.inFlight >= budget.limits.framesInFlight || opts.publisher.full) break;
        const { event: ev, readAt } = s.queue.shift() as Queued;
        if (ev.kind === 'error') {
          addToRun(ev.bytes, ev.error.code, readAt);
          overBudget(budget.garbage(ev.bytes.length));
          continue;
        }
        flushRun();
        const at = readAt.toISOString();
        submit(readAt, () => handleFrame(ctx, state, ev.frame, at, readAt.getTime()));
      }
      // Garbage at the end of what was read waits for the next frame (so a run stays one record),
      // except when nothing more will come.
      if (s.queue.length === 0 && (socketClosed || closing)) flushRun();
      const blocked = s.queue.length > 0 || s.inFlight >= budget.limits.framesInFlight || opts.publisher.full;
      if (blocked) pauseSocket();
      else if (s.paused && !socket.destroyed && !stopping) {
        s.paused = false;
        socket.resume();
      }
      if (socketClosed && s.queue.length === 0 && s.inFlight === 0) sessions.delete(s);
    }

    const armFrameDeadline = (completedSome: boolean) => {
      if (frameTimer && (completedSome || splitter.buffered === 0)) {
        clearTimeout(frameTimer);
        frameTimer = null;
      }
      if (!frameTimer && splitter.buffered > 0) {
        frameTimer = setTimeout(() => {
          frameTimer = null;
          if (splitter.buffered > 0 && !socketClosed) closeFor('frame-deadline');
        }, guard.frameDeadlineMs);
      }
    };

    socket.on('data', (chunk: Buffer) => {
      if (closing) return;
      const readAt = now();
      const events = splitter.push(chunk);
      for (const ev of events) s.queue.push({ event: ev, readAt });
      armFrameDeadline(events.length > 0);
      pump();
      for (const g of state.reassembler.expire(readAt.getTime())) {
        m.packets.inc({ outcome: 'split-timeout' });
        warn(clog, { mn: g.mn, qn: g.qn, received: g.received, pnum: g.pnum }, g.error.message);
      }
    });
  }

  let listening = false;
  return {
    listen() {
      return new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port: opts.port, host: opts.host, backlog: opts.listenBacklog ?? 4096 }, () => {
          server.off('error', reject);
          listening = true;
          const addr = server.address();
          const port = typeof addr === 'object' && addr ? addr.port : opts.port;
          engine.start();
          log.info({ host: opts.host, port, policy: opts.policy }, 'HJ 212 gateway listening');
          resolve(port);
        });
      });
    },
    get connections() {
      return open;
    },
    get pending() {
      let n = 0;
      for (const s of sessions) n += s.queue.length + s.inFlight;
      return n;
    },
    get listening() {
      return listening;
    },
    async close(deadlineMs) {
      listening = false;
      stopping = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sessions) s.socket.pause();
      const idle = () => [...sessions].filter((s) => s.queue.length > 0 || s.inFlight > 0);
      const drain = async () => {
        for (let busy = idle(); busy.length > 0; busy = idle()) {
          await Promise.all(busy.map((s) => s.tail));
          for (const s of busy) s.pump();
          if (busy.every((s) => s.inFlight === 0)) await new Promise((r) => setTimeout(r, 10));
        }
        for (const s of sessions) s.flushGarbage();
        await Promise.all([...sessions].map((s) => s.tail));
      };
      try {
        await withTimeout(drain(), deadlineMs, 'hj212 sessions drain');
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'sessions did not drain in time');
      } finally {
        await engine.stop();
        for (const s of sessions) s.socket.destroy();
        await withTimeout(closed, 1000, 'tcp server close').catch(() => undefined);
      }
    },
  };
}
