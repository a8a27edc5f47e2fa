/**
 * The simulated data-logger fleet of the gateway benchmark, run as its own process (forked by
 * gateway.bench.ts) so the loggers never share an event loop with the gateway or the orchestrator.
 *
 * Protocol over the IPC channel (parent → fleet): `connect`, then `start`, then `mark` (open the
 * measured window), `stop` (close it; the fleet waits for the replies still owed and answers with
 * the latencies). Fleet mode: every logger sends one 2011 packet per `intervalS` at its own random
 * phase, as real loggers do; burst mode: every logger sends `packets` packets back to back, waiting
 * for each reply, all starting at the same instant (a stress figure, not a fleet).
 *
 * Latency is measured from the moment the frame was handed to the kernel (socket.write returned;
 * a frame of ~1 KiB on an idle socket is written whole) to the arrival of the reply's CR LF.
 */
import net from 'node:net';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { encodePacket } from '@offsite/hj212';

export interface FleetConfig {
  readonly port: number;
  readonly loggers: number;
  readonly mode: 'fleet' | 'burst';
  readonly intervalS: number;
  readonly packets: number;
  readonly values: number;
  readonly mn: string;
  readonly pw: string;
  readonly connectConcurrency: number;
}

export type FleetMessage =
  | { type: 'connected'; seconds: number; connectMs: number[]; failed: number }
  | { type: 'started' }
  | {
      type: 'result';
      latencies: number[];
      sent: number;
      unanswered: number;
      windowS: number;
      cpuPercent: number;
      loopDelayP99Ms: number;
      disconnects: number;
    };

export type ParentMessage = { type: 'connect' } | { type: 'start' } | { type: 'mark' } | { type: 'stop' };

const config = JSON.parse(process.argv[2] ?? '{}') as FleetConfig;
const send = (m: FleetMessage) => process.send?.(m);

interface Logger {
  readonly index: number;
  readonly socket: net.Socket;
  /** Send times of the frames whose reply has not arrived yet (replies come back in order). */
  readonly owed: number[];
  /** Whether each owed frame was sent inside the measured window. */
  readonly counted: boolean[];
  seq: number;
  timer: NodeJS.Timeout | null;
  onReply: (() => void) | null;
}

const loggers: Logger[] = [];
let measuring = false;
let stopping = false;
let latencies: number[] = [];
let sentInWindow = 0;
let disconnects = 0;

function cp(i: number, k: number): string {
  const t = new Date(Date.UTC(2024, 2, 1, 0, 0, 0) + (i * 7 + k * 30) * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  const items = [
    `DataTime=${t.getUTCFullYear()}${p(t.getUTCMonth() + 1)}${p(t.getUTCDate())}${p(t.getUTCHours())}${p(t.getUTCMinutes())}${p(t.getUTCSeconds())}`,
  ];
  for (let v = 0; v < config.values; v++)
    items.push(`a${String(21000 + v)}-Rtd=${(i + v + k) % 100}.5,a${String(21000 + v)}-Flag=N`);
  return items.join(';');
}

function frame(l: Logger): Buffer {
  const k = l.seq++;
  return encodePacket({
    qn: `2024030110${String(l.index % 100_000).padStart(5, '0')}${String(k % 100).padStart(2, '0')}`,
    st: '31',
    cn: '2011',
    pw: config.pw,
    mn: config.mn,
    flag: 5,
    cp: cp(l.index, k),
  });
}

function sendOne(l: Logger): void {
  if (l.socket.destroyed) return;
  l.socket.write(frame(l));
  l.owed.push(performance.now());
  l.counted.push(measuring);
  if (measuring) sentInWindow++;
}

function attach(l: Logger): void {
  l.socket.on('data', (chunk: Buffer) => {
    let at = chunk.indexOf(0x0a);
    while (at >= 0) {
      const t0 = l.owed.shift();
      const counted = l.counted.shift();
      if (t0 !== undefined && counted) latencies.push(performance.now() - t0);
      l.onReply?.();
      at = chunk.indexOf(0x0a, at + 1);
    }
  });
  l.socket.on('close', () => {
    if (!stopping) disconnects++;
  });
  l.socket.on('error', () => undefined);
}

function connectOne(index: number): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port: config.port, host: '127.0.0.1', noDelay: true }, () => {
      socket.off('error', reject);
      const l: Logger = { index, socket, owed: [], counted: [], seq: 0, timer: null, onReply: null };
      attach(l);
      loggers.push(l);
      resolve(performance.now() - t0);
    });
    socket.once('error', reject);
  });
}

async function connectAll(): Promise<void> {
  const t0 = performance.now();
  const connectMs: number[] = [];
  let failed = 0;
  let next = 0;
  const worker = async () => {
    while (next < config.loggers) {
      const i = next++;
      try {
        connectMs.push(await connectOne(i));
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: config.connectConcurrency }, worker));
  send({ type: 'connected', seconds: (performance.now() - t0) / 1000, connectMs, failed });
}

/** Fleet mode: one packet per interval per logger, at a random phase, drift-free. */
function startFleet(): void {
  const intervalMs = config.intervalS * 1000;
  const origin = performance.now();
  for (const l of loggers) {
    const phase = Math.random() * intervalMs;
    let k = 0;
    const tick = () => {
      if (stopping) return;
      sendOne(l);
      k++;
      l.timer = setTimeout(tick, Math.max(0, origin + phase + k * intervalMs - performance.now()));
    };
    l.timer = setTimeout(tick, phase);
  }
}

/** Burst mode: every logger sends its packets one after another, each after the previous reply. */
function startBurst(): void {
  let running = loggers.length;
  for (const l of loggers) {
    let left = config.packets;
    l.onReply = () => {
      if (--left > 0 && !stopping) sendOne(l);
      else {
        l.onReply = null;
        if (--running === 0) void stop();
      }
    };
    sendOne(l);
  }
}

const loop = monitorEventLoopDelay({ resolution: 10 });
let cpu0 = process.cpuUsage();
let window0 = 0;

async function stop(): Promise<void> {
  if (stopping) return;
  const windowS = (performance.now() - window0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  measuring = false;
  stopping = true;
  for (const l of loggers) if (l.timer) clearTimeout(l.timer);
  // Wait (up to 30 s) for the replies owed to frames sent inside the window.
  const owedCounted = () => loggers.reduce((n, l) => n + l.counted.filter(Boolean).length, 0);
  const end = performance.now() + 30_000;
  while (owedCounted() > 0 && performance.now() < end) await new Promise((r) => setTimeout(r, 100));
  loop.disable();
  send({
    type: 'result',
    latencies,
    sent: sentInWindow,
    unanswered: owedCounted(),
    windowS,
    cpuPercent: ((cpu.user + cpu.system) / 1e6 / windowS) * 100,
    loopDelayP99Ms: loop.percentile(99) / 1e6,
    disconnects,
  });
  for (const l of loggers) l.socket.destroy();
  setTimeout(() => process.exit(0), 200);
}

process.on('message', (m: ParentMessage) => {
  if (m.type === 'connect') void connectAll();
  else if (m.type === 'start') {
    if (config.mode === 'burst') {
      measuring = true;
      window0 = performance.now();
      cpu0 = process.cpuUsage();
      loop.enable();
      startBurst();
    } else startFleet();
    send({ type: 'started' });
  } else if (m.type === 'mark') {
    latencies = [];
    sentInWindow = 0;
    measuring = true;
    window0 = performance.now();
    cpu0 = process.cpuUsage();
    loop.enable();
  } else void stop();
});
