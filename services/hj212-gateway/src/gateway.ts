/**
 * The HJ 212 TCP server: one session per data-logger connection (frame splitter, split-packet
 * reassembler, idle timeout), every frame handed to `handleFrame`, its records published through the
 * shared publisher, and its reply written only after Kafka acknowledged them, in arrival order.
 * Backpressure: a socket is paused while its own frames in flight reach a limit or while the
 * publisher is full, and resumed when they drain.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import {
  FrameSplitter,
  SplitPacketReassembler,
  type CipherTextEncoding,
  type TolerancePolicy,
} from '@offsite/hj212';
import { errorCode, errorMessage, withTimeout, type Logger } from '@offsite/runtime';
import type { DeviceDirectory } from './device-directory.js';
import type { GatewayMetrics } from './metrics.js';
import {
  handleFrame,
  handleGarbage,
  type ConnectionInfo,
  type HandledFrame,
  type HandlerContext,
  type Topics,
} from './packet-handler.js';
import type { Publisher } from './publisher.js';

export { topicsWithPrefix, type Topics } from './packet-handler.js';
export { createPublisher, type Publisher, type BatchProducer } from './publisher.js';
export { createDeviceDirectory, type DeviceDirectory, type DeviceRecord } from './device-directory.js';
export { createGatewayMetrics, type GatewayMetrics } from './metrics.js';

export interface GatewayOptions {
  readonly host: string;
  readonly port: number;
  readonly policy: TolerancePolicy;
  readonly maxSegmentBytes: number;
  readonly idleTimeoutMs: number;
  readonly maxConnections: number;
  /**
   * Pending-connection queue of the listening socket (the kernel caps it at net.core.somaxconn).
   * Node's default 511 drops SYNs when thousands of loggers reconnect at once after a restart, and
   * each dropped SYN costs that logger a 1 s retransmission. Default 4096.
   */
  readonly listenBacklog?: number;
  readonly splitTimeoutMs: number;
  readonly maxFramesInFlight: number;
  readonly cipherEncoding: CipherTextEncoding;
  readonly topics: Topics;
  readonly directory: DeviceDirectory;
  readonly publisher: Publisher;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly now?: () => Date;
}

export interface Gateway {
  /** Start listening; resolves with the bound port. */
  listen(): Promise<number>;
  readonly connections: number;
  readonly listening: boolean;
  /** Stop accepting, let sessions finish the frames in flight, then close them (under a deadline). */
  close(deadlineMs: number): Promise<void>;
}

interface Session {
  readonly socket: net.Socket;
  inFlight: number;
  paused: boolean;
  tail: Promise<void>;
}

export function createGateway(opts: GatewayOptions): Gateway {
  const log = opts.logger.child({ component: 'hj212-gateway' });
  const now = opts.now ?? (() => new Date());
  const instance = randomBytes(4).toString('hex');
  let connSeq = 0;
  let recSeq = 0;
  const sessions = new Set<Session>();
  const ctx: HandlerContext = {
    policy: opts.policy,
    maxSegmentBytes: opts.maxSegmentBytes,
    cipherEncoding: opts.cipherEncoding,
    directory: opts.directory,
    topics: opts.topics,
    nextId: () => `raw-${instance}-${(recSeq++).toString(36)}`,
  };
  const m = opts.metrics;

  const maybeResume = (s: Session) => {
    if (s.paused && s.inFlight < opts.maxFramesInFlight && !opts.publisher.full && !s.socket.destroyed) {
      s.paused = false;
      s.socket.resume();
    }
  };
  opts.publisher.onDrain(() => {
    for (const s of sessions) maybeResume(s);
  });

  const server = net.createServer({ noDelay: true }, (socket) => onConnection(socket));
  server.maxConnections = opts.maxConnections;

  function onConnection(socket: net.Socket): void {
    const info: ConnectionInfo = {
      id: `c-${instance}-${(connSeq++).toString(36)}`,
      remoteAddress: socket.remoteAddress ?? 'unknown',
      remotePort: socket.remotePort ?? 0,
      localPort: socket.localPort ?? 0,
    };
    const clog = log.child({ connectionId: info.id, remote: `${info.remoteAddress}:${info.remotePort}` });
    const splitter = new FrameSplitter({ policy: opts.policy, maxSegmentBytes: opts.maxSegmentBytes });
    const state = { info, reassembler: new SplitPacketReassembler({ timeoutMs: opts.splitTimeoutMs }) };
    const s: Session = { socket, inFlight: 0, paused: false, tail: Promise.resolve() };
    sessions.add(s);
    m.connections.inc();
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
      sessions.delete(s);
      m.connections.dec();
      m.connectionsTotal.inc({ event: 'closed' });
    });

    const submit = (readAt: Date, work: () => Promise<HandledFrame>) => {
      s.inFlight += 1;
      if (s.inFlight >= opts.maxFramesInFlight || opts.publisher.full) {
        if (!s.paused) {
          s.paused = true;
          m.paused.inc();
          socket.pause();
        }
      }
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
          if (
            h.outcome !== 'telemetry' &&
            h.outcome !== 'accepted' &&
            h.outcome !== 'heartbeat' &&
            h.outcome !== 'split-pending'
          ) {
            clog.warn({ mn: h.mn, outcome: h.outcome, reason: h.dlqReason }, h.detail);
          }
          if (h.reply && !socket.destroyed) {
            socket.write(h.reply);
            m.replies.inc({ cn: h.replyCn ?? 'none' });
            m.replyLatency.observe((Date.now() - readAt.getTime()) / 1000);
          }
        } catch (err) {
          // Kafka did not acknowledge (or the registry could not be read): no reply, so the logger
          // sends the packet again.
          const kafka = errorCode(err) === 'KAFKA_PRODUCE_FAILED';
          m.packets.inc({ outcome: kafka ? 'kafka-failed' : 'internal-error' });
          clog.warn(
            { err: errorMessage(err), code: errorCode(err) },
            'packet not made durable; not replying',
          );
        } finally {
          s.inFlight -= 1;
          maybeResume(s);
        }
      });
    };

    socket.on('data', (chunk: Buffer) => {
      const readAt = now();
      const at = readAt.toISOString();
      for (const ev of splitter.push(chunk)) {
        if (ev.kind === 'frame') {
          submit(readAt, () => handleFrame(ctx, state, ev.frame, at, readAt.getTime()));
        } else {
          const garbage = handleGarbage(ctx, info, ev.bytes, ev.error, at);
          submit(readAt, () => Promise.resolve(garbage));
        }
      }
      for (const g of state.reassembler.expire(readAt.getTime())) {
        m.packets.inc({ outcome: 'split-timeout' });
        clog.warn({ mn: g.mn, qn: g.qn, received: g.received, pnum: g.pnum }, g.error.message);
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
          log.info({ host: opts.host, port, policy: opts.policy }, 'HJ 212 gateway listening');
          resolve(port);
        });
      });
    },
    get connections() {
      return sessions.size;
    },
    get listening() {
      return listening;
    },
    async close(deadlineMs) {
      listening = false;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sessions) s.socket.pause();
      const drain = Promise.all([...sessions].map((s) => s.tail)).then(() => undefined);
      try {
        await withTimeout(drain, deadlineMs, 'hj212 sessions drain');
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'sessions did not drain in time');
      } finally {
        for (const s of sessions) s.socket.destroy();
        await withTimeout(closed, 1000, 'tcp server close').catch(() => undefined);
      }
    },
  };
}
