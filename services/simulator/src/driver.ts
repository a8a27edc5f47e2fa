/**
 * Runs a simulation against real endpoints: event time advances at `speed` × wall time from the
 * configured start (speed 1 = live at true cadence; `Infinity` = load mode, as fast as the links
 * drain), each due upload goes to its logger's link, each meter reading is published over MQTT
 * (QoS 1). Event time does not run ahead of the links by more than `maxBacklog` cached packets,
 * so a slow centre slows the simulated clock rather than growing caches without bound.
 */
import type { MeterEnergyV1 } from '@offsite/contracts';
import type { PacketInput } from '@offsite/hj212';
import { Hj212Link, type LinkLogger } from './hj212-link.js';
import type { Scenario } from './scenarios.js';
import type { Output, Simulation } from './simulation.js';

export interface MeterPublisher {
  publish(topic: string, payload: MeterEnergyV1, username: string | null): Promise<void>;
}

export interface DriverOptions {
  readonly simulation: Simulation;
  readonly scenarios: readonly Scenario[];
  readonly start: number;
  /** Event time at which the run ends (ms), or null to run until stopped. */
  readonly end: number | null;
  readonly speed: number;
  readonly gateway: { host: string; port: number } | null;
  readonly meters: MeterPublisher | null;
  readonly ackTimeoutMs: number;
  readonly maxBacklog: number;
  /** After an outage a logger replays at most this many cached uploads (a partial cache); default all. */
  readonly replayLimit?: number;
  readonly tickMs: number;
  readonly logger: LinkLogger & { error(obj: object, msg?: string): void };
  readonly now?: () => number;
  readonly onProgress?: (p: Progress) => void;
  /** Sent once the run's own data are all delivered: the days before it (`history.ts`), through the same links. */
  readonly history?: () => Output[];
}

export interface Progress {
  readonly eventTime: number;
  readonly packetsGenerated: number;
  readonly packetsAcked: number;
  readonly valuesAcked: number;
  readonly resends: number;
  readonly cached: number;
  readonly meterReadings: number;
  readonly meterErrors: number;
  /** The centre's commands the loggers answered, and the history packets they sent back. */
  readonly commands: number;
  readonly historySent: number;
  /** Cached uploads not replayed after an outage (left for the centre's backfill). */
  readonly notReplayed: number;
  /** The history sent after the run (`DriverOptions.history`): HJ 212 packets acknowledged, meter readings PUBACKed. */
  readonly historyAcked: number;
  readonly historyMeterReadings: number;
  readonly done: boolean;
}

export interface Driver {
  run(signal: AbortSignal): Promise<Progress>;
  progress(): Progress;
}

export function createDriver(o: DriverOptions): Driver {
  const now = o.now ?? Date.now;
  const links = new Map<string, Hj212Link>();
  const values = new WeakMap<PacketInput, number>();
  let generated = 0;
  let acked = 0;
  let valuesAcked = 0;
  let resends = 0;
  let meterReadings = 0;
  let meterErrors = 0;
  const historyPackets = new WeakSet<PacketInput>();
  let historyAcked = 0;
  let historyMeterReadings = 0;
  let eventTime = o.start;
  let done = false;

  const linkFor = (mn: string): Hj212Link | null => {
    if (!o.gateway) return null;
    let l = links.get(mn);
    if (!l) {
      const spec = o.simulation.loggers.find((x) => x.spec.mn === mn)?.spec;
      const offline = o.scenarios.some((s) => s.kind === 'offline' && s.target === mn);
      l = new Hj212Link({
        host: o.gateway.host,
        port: o.gateway.port,
        mn,
        sm4Key: spec?.sm4Key ?? null,
        ackTimeoutMs: o.ackTimeoutMs,
        maxResends: 3,
        reconnectMinMs: 200,
        reconnectMaxMs: 5000,
        logger: o.logger,
        onDelivered: (p) => {
          if (historyPackets.has(p)) return void historyAcked++;
          acked++;
          valuesAcked += values.get(p) ?? 0;
        },
        onResend: () => resends++,
        clock: () => eventTime,
        realtimeIntervalS: spec?.realtimeIntervalS,
        minuteIntervalS: spec?.minuteIntervalS,
        ...(offline && o.replayLimit !== undefined ? { replayLimit: o.replayLimit } : {}),
      });
      links.set(mn, l);
    }
    return l;
  };

  const cached = () => [...links.values()].reduce((a, l) => a + l.pending, 0);
  const progress = (): Progress => ({
    eventTime,
    packetsGenerated: generated,
    packetsAcked: acked,
    valuesAcked,
    resends,
    cached: cached(),
    meterReadings,
    meterErrors,
    historyAcked,
    historyMeterReadings,
    ...sum(['commands', 'historySent', 'dropped']),
    done,
  });
  function sum(keys: ('commands' | 'historySent' | 'dropped')[]) {
    const t = { commands: 0, historySent: 0, dropped: 0 };
    for (const l of links.values()) {
      const st = l.snapshot();
      for (const k of keys) t[k] += st[k];
    }
    return { commands: t.commands, historySent: t.historySent, notReplayed: t.dropped };
  }

  const applyOffline = (t: number) => {
    for (const s of o.scenarios) {
      if (s.kind !== 'offline') continue;
      linkFor(s.target)?.setOnline(!(t >= s.from && t < s.to));
    }
  };

  /** Publishes one meter reading, counted by `ok`; a failure is counted and logged, the run goes on. */
  const publish = (out: Output & { kind: 'meter' }, ok: () => void): Promise<void> =>
    o
      .meters!.publish(out.topic, out.payload, out.username)
      .then(ok)
      .catch((e: unknown) => {
        meterErrors++;
        o.logger.warn({ meter: out.meterId, err: (e as Error).message }, 'meter publish failed');
      });

  /** The history after the run: each logger's packets in order on its link, the meter readings 50 in flight. */
  const sendHistory = async (signal: AbortSignal): Promise<void> => {
    const outputs = o.history?.() ?? [];
    const readings: (Output & { kind: 'meter' })[] = [];
    for (const out of outputs)
      if (out.kind === 'hj212') {
        const link = linkFor(out.mn);
        if (!link) continue;
        historyPackets.add(out.packet);
        link.enqueue(out.packet);
      } else if (o.meters) readings.push(out);
    for (let i = 0; i < readings.length && !signal.aborted; i += 50)
      await Promise.all(readings.slice(i, i + 50).map((r) => publish(r, () => void historyMeterReadings++)));
    while (!signal.aborted && cached() > 0) {
      o.onProgress?.(progress());
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  return {
    progress,
    async run(signal) {
      const wallStart = now();
      let lastReport = 0;
      const pendingPublishes = new Set<Promise<void>>();
      while (!signal.aborted) {
        const finite = Number.isFinite(o.speed);
        let target = finite ? o.start + (now() - wallStart) * o.speed : eventTime + 60_000;
        if (o.end !== null) target = Math.min(target, o.end);
        // Backpressure: hold the clock while the links are behind.
        if (cached() <= o.maxBacklog && target > eventTime) {
          applyOffline(target);
          for (const out of o.simulation.advanceTo(target)) {
            if (out.kind === 'hj212') {
              generated++;
              values.set(out.packet, out.values);
              linkFor(out.mn)?.enqueue(out.packet);
            } else if (o.meters) {
              const p = publish(out, () => void meterReadings++);
              pendingPublishes.add(p);
              void p.finally(() => pendingPublishes.delete(p));
            }
          }
          eventTime = target;
        }
        if (now() - lastReport >= 1000) {
          lastReport = now();
          o.onProgress?.(progress());
        }
        if (o.end !== null && eventTime >= o.end && cached() === 0 && pendingPublishes.size === 0) break;
        if (o.end !== null && eventTime >= o.end) applyOffline(o.end);
        await new Promise((r) => setTimeout(r, finite ? o.tickMs : 5));
      }
      await Promise.allSettled([...pendingPublishes]);
      if (o.history && !signal.aborted && o.end !== null && eventTime >= o.end) await sendHistory(signal);
      const left = await Promise.all([...links.values()].map((l) => l.close()));
      done = true;
      const final = progress();
      if (left.some((n) => n > 0))
        o.logger.warn(
          { cached: left.reduce((a, b) => a + b, 0) },
          'stopped with unacknowledged packets in logger caches',
        );
      o.onProgress?.(final);
      return final;
    },
  };
}
