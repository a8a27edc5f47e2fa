import { validateTelemetryV1, type TelemetryDlqV1, type TelemetryLateV1 } from '@offsite/contracts';
import { InfluxError } from '@offsite/influx';
import type { ConsumedBatch, ConsumedMessage } from '@offsite/kafka';
import { OffsiteError, type Logger } from '@offsite/runtime';
import { dlqRecord, type WriterDlqReason } from './dlq.js';
import { lateEvents, type MinuteReading } from './late.js';
import type { WriterMetrics } from './metrics.js';
import { telemetryToLines } from './points.js';

/** The slice of @offsite/influx's writer this pipeline calls. */
export interface LineSink {
  write(lines: string[]): Promise<void>;
}

/** Where rejected input goes; resolves once the DLQ records are durable (Kafka acks=-1). */
export interface DlqSink {
  send(records: TelemetryDlqV1[]): Promise<void>;
}

/** Where late minute data is reported; resolves once the events are durable (Kafka acks=-1). */
export interface LateSink {
  send(events: TelemetryLateV1[]): Promise<void>;
}

export interface PipelineOptions {
  influx: LineSink;
  dlq: DlqSink;
  /** Receives telemetry.late.v1 events after each write, before its batches resolve (late.ts). */
  late: LateSink;
  logger: Logger;
  metrics: WriterMetrics;
  /** Flush once this many points are buffered (across partitions); also the size of one write. */
  maxBatchPoints: number;
  /** Flush at the latest this long after the first reading was buffered. */
  maxBatchDelayMs: number;
  /**
   * Flushes (InfluxDB write requests) in flight at once (default 1). Offsets stay correct with more:
   * each partition batch resolves after its own flush, and KafkaJS hands a partition its next batch
   * only after that.
   */
  maxConcurrentWrites?: number;
  /** Exponential backoff of retryable write errors: first delay and cap, with jitter. */
  retryInitialMs: number;
  retryMaxMs: number;
  /** Called with false when InfluxDB starts failing and true once a write succeeds again. */
  onAvailabilityChange?(available: boolean): void;
  random?: () => number;
}

export interface Pipeline {
  /** Handles one partition's batch; resolves once every reading in it is in InfluxDB or the DLQ. */
  handle(batch: Pick<ConsumedBatch, 'messages' | 'heartbeat'>): Promise<void>;
  /** False while InfluxDB writes are failing. */
  isAvailable(): boolean;
  /**
   * Flushes what is buffered now and stops retrying: batches still waiting for InfluxDB reject
   * (their offsets stay uncommitted, so another member or the next start re-delivers them).
   */
  shutdown(): void;
}

/** One reading's lines, kept together: a write splits between readings, and a refusal DLQs the reading. */
interface Reading {
  /** Its points as line protocol, joined by `\n`. */
  text: string;
  count: number;
  measurement: string;
  message: ConsumedMessage;
  /** A minute emission reading (what 传输有效率 counts): checked for lateness once written. */
  minute?: MinuteReading;
}

interface Entry {
  readings: Reading[];
  dlq: TelemetryDlqV1[];
  heartbeat: () => Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class ShutdownError extends OffsiteError<'WRITER_SHUTTING_DOWN'> {
  constructor() {
    super('WRITER_SHUTTING_DOWN', 'influx-writer is shutting down; batch left uncommitted', {
      retryable: true,
    });
  }
}

const EMPTY = Buffer.alloc(0);

const failed = (
  m: ConsumedMessage,
  now: Date,
  reason: WriterDlqReason,
  message: string,
  parsed?: object,
) => ({
  dlq: dlqRecord(m, reason, message, now, parsed),
  reason,
});

/** Decodes one Kafka record into its line-protocol lines, or a DLQ record saying why it cannot be stored. */
export function decodeMessage(
  m: ConsumedMessage,
  now: Date,
): { reading: Reading } | { dlq: TelemetryDlqV1; reason: WriterDlqReason } {
  let json: unknown;
  try {
    json = JSON.parse((m.value ?? EMPTY).toString('utf8'));
  } catch (e) {
    return failed(m, now, 'json.invalid', `not JSON: ${(e as Error).message}`);
  }
  const v = validateTelemetryV1(json);
  if (!v.ok)
    return failed(
      m,
      now,
      'schema.invalid',
      `not a telemetry.v1 event: ${v.errors.join('; ')}`,
      typeof json === 'object' && json !== null ? json : undefined,
    );
  try {
    const t = v.value;
    const { text, count } = telemetryToLines(t);
    const reading: Reading = { text, count, measurement: t.kind, message: m };
    if (t.kind === 'emission' && t.interval === 'minute')
      reading.minute = { enterpriseId: t.enterpriseId, deviceId: t.deviceId, time: Date.parse(t.dataTime) };
    return { reading };
  } catch (e) {
    return failed(m, now, 'influx.invalid-point', (e as Error).message, v.value);
  }
}

/** The reading's ids for its DLQ record (decoded again: refusals are rare, so readings do not keep them). */
function parsedIds(m: ConsumedMessage): object | undefined {
  try {
    const json: unknown = JSON.parse((m.value ?? EMPTY).toString('utf8'));
    return typeof json === 'object' && json !== null ? json : undefined;
  } catch {
    return undefined;
  }
}

const pointsOf = (e: Entry): number => {
  let n = 0;
  for (const r of e.readings) n += r.count;
  return n;
};

export function createPipeline(opts: PipelineOptions): Pipeline {
  const log = opts.logger.child({ component: 'pipeline' });
  const random = opts.random ?? Math.random;
  const concurrency = Math.max(1, opts.maxConcurrentWrites ?? 1);
  const pending: Entry[] = [];
  let pendingPoints = 0;
  let firstBufferedAt = 0;
  let timer: NodeJS.Timeout | undefined;
  /** The oldest buffered reading has waited maxBatchDelayMs. */
  let due = false;
  let active = 0;
  let available = true;
  let closing = false;
  const wakers = new Set<() => void>();
  opts.metrics.influxUp.set(1);

  const setAvailable = (up: boolean) => {
    if (up === available) return;
    available = up;
    opts.metrics.influxUp.set(up ? 1 : 0);
    if (up) log.info({}, 'InfluxDB accepts writes again; resuming consumption');
    else log.warn({}, 'InfluxDB writes failing; pausing consumption until it recovers');
    opts.onAvailabilityChange?.(up);
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(t);
        wakers.delete(wake);
        resolve();
      };
      const t = setTimeout(wake, ms);
      wakers.add(wake);
    });

  /** Writes the readings, retrying what may succeed later; returns the readings InfluxDB refuses for good. */
  const writeReadings = async (
    readings: Reading[],
    entries: Entry[],
  ): Promise<{ reading: Reading; why: string }[]> => {
    let attempt = 0;
    for (;;) {
      try {
        await opts.influx.write(readings.map((r) => r.text));
        // Counted per measurement once per write (a labelled inc per point was a visible cost).
        const byMeasurement = new Map<string, number>();
        let lines = 0;
        for (const r of readings) {
          lines += r.count;
          byMeasurement.set(r.measurement, (byMeasurement.get(r.measurement) ?? 0) + r.count);
        }
        opts.metrics.batchPoints.observe(lines);
        for (const [measurement, n] of byMeasurement) opts.metrics.points.inc({ measurement }, n);
        setAvailable(true);
        return [];
      } catch (err) {
        const code = err instanceof InfluxError ? err.code : 'INFLUX_UNAVAILABLE';
        opts.metrics.writeErrors.inc({ code });
        if (code === 'INFLUX_REJECTED' || code === 'INFLUX_TOO_LARGE') {
          // Find the refused readings by halving: the rest is written (again: writes are idempotent).
          if (readings.length === 1) return [{ reading: readings[0]!, why: (err as Error).message }];
          const mid = Math.ceil(readings.length / 2);
          return [
            ...(await writeReadings(readings.slice(0, mid), entries)),
            ...(await writeReadings(readings.slice(mid), entries)),
          ];
        }
        // Unavailable, throttled or refused credentials: nothing is lost by waiting.
        setAvailable(false);
        if (closing) throw new ShutdownError();
        const base = Math.min(opts.retryMaxMs, opts.retryInitialMs * 2 ** Math.min(attempt, 20));
        const advised = err instanceof InfluxError ? (err.retryAfterMs ?? 0) : 0;
        const delay = Math.max(advised, base / 2 + (random() * base) / 2);
        attempt += 1;
        log.warn(
          { err, code, attempt, delayMs: Math.round(delay), readings: readings.length },
          'InfluxDB write failed; retrying',
        );
        // Keep the group membership of the waiting batches alive while InfluxDB is away.
        await Promise.all(entries.map((e) => e.heartbeat().catch(() => undefined)));
        await sleep(delay);
        if (closing) throw new ShutdownError();
      }
    }
  };

  /** Writes the entries' readings in writes of at most maxBatchPoints, then their DLQ records; settles each entry. */
  const flush = async (entries: Entry[], startedAt: number): Promise<void> => {
    try {
      // Writes of at most maxBatchPoints, up to `concurrency` in flight over all flushes, so even
      // one partition's large batch keeps InfluxDB busy on more than one connection.
      const chunks: Reading[][] = [];
      let chunk: Reading[] = [];
      let chunkPoints = 0;
      let lines = 0;
      for (const e of entries)
        for (const r of e.readings) {
          if (chunkPoints > 0 && chunkPoints + r.count > opts.maxBatchPoints) {
            chunks.push(chunk);
            chunk = [];
            chunkPoints = 0;
          }
          chunk.push(r);
          chunkPoints += r.count;
          lines += r.count;
        }
      if (chunk.length > 0) chunks.push(chunk);
      const rejected = (
        await Promise.all(chunks.map((c) => withWriteSlot(() => writeReadings(c, entries))))
      ).flat();
      const dlq = entries.flatMap((e) => e.dlq);
      const now = new Date();
      // Late minute data reported before the batches resolve (so before their offsets are committed).
      const refused = new Set(rejected.map((r) => r.reading));
      const minutes: MinuteReading[] = [];
      for (const c of chunks) for (const r of c) if (r.minute && !refused.has(r)) minutes.push(r.minute);
      const late = lateEvents(minutes, now);
      if (late.length > 0) {
        await opts.late.send(late);
        let n = 0;
        for (const e of late) n += e.readings;
        opts.metrics.lateReadings.inc(n);
        opts.metrics.lateEvents.inc(late.length);
      }
      for (const { reading, why } of rejected) {
        const m = reading.message;
        const key = `${m.topic}/${m.partition}/${m.offset}`;
        dlq.push(dlqRecord(m, 'influx.rejected', why, now, parsedIds(m)));
        opts.metrics.dlq.inc({ reason: 'influx.rejected' });
        log.warn({ origin: key, reason: why }, 'InfluxDB refused a reading; sent to the DLQ');
      }
      if (dlq.length > 0) await opts.dlq.send(dlq);
      opts.metrics.flushSeconds.observe((Date.now() - startedAt) / 1000);
      log.debug({ lines, dlq: dlq.length, batches: entries.length }, 'flushed');
      for (const e of entries) e.resolve();
    } catch (err) {
      for (const e of entries) e.reject(err);
    }
  };

  let writing = 0;
  const slotWaiters: (() => void)[] = [];
  /** Runs `fn` once fewer than `concurrency` writes are in flight. */
  const withWriteSlot = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (writing >= concurrency) await new Promise<void>((r) => slotWaiters.push(r));
    else writing += 1;
    try {
      return await fn();
    } finally {
      const next = slotWaiters.shift();
      if (next) next();
      else writing -= 1;
    }
  };

  /** Makes what is buffered due maxBatchDelayMs from now, unless a deadline is already set. */
  const arm = () => {
    if (timer || due || pending.length === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      due = true;
      pump();
    }, opts.maxBatchDelayMs);
  };

  /**
   * Starts flushes while a write slot is free and the buffer is full, due, or the pipeline closing. A
   * flush takes whole partition batches up to maxBatchPoints; what stays buffered keeps its deadline.
   */
  const pump = () => {
    while (
      active < concurrency &&
      pending.length > 0 &&
      (closing || due || pendingPoints >= opts.maxBatchPoints)
    ) {
      const entries: Entry[] = [];
      let points = 0;
      while (
        pending.length > 0 &&
        (entries.length === 0 || points + pointsOf(pending[0]!) <= opts.maxBatchPoints)
      ) {
        const e = pending.shift()!;
        entries.push(e);
        points += pointsOf(e);
      }
      pendingPoints -= points;
      const startedAt = firstBufferedAt;
      if (pending.length === 0) {
        due = false;
        if (timer) clearTimeout(timer);
        timer = undefined;
      } else if (!due) arm();
      active += 1;
      void flush(entries, startedAt).finally(() => {
        active -= 1;
        pump();
      });
    }
  };

  return {
    isAvailable: () => available,
    shutdown() {
      closing = true;
      for (const wake of [...wakers]) wake();
      pump();
    },
    handle(batch) {
      if (closing) return Promise.reject(new ShutdownError());
      const now = new Date();
      const readings: Reading[] = [];
      const dlq: TelemetryDlqV1[] = [];
      let ok = 0;
      for (const m of batch.messages) {
        const r = decodeMessage(m, now);
        if ('dlq' in r) {
          dlq.push(r.dlq);
          opts.metrics.dlq.inc({ reason: r.reason });
          opts.metrics.readings.inc({ outcome: 'dlq' });
        } else {
          readings.push(r.reading);
          ok += 1;
        }
      }
      if (ok > 0) opts.metrics.readings.inc({ outcome: 'ok' }, ok);
      return new Promise<void>((resolve, reject) => {
        const entry: Entry = { readings, dlq, heartbeat: batch.heartbeat, resolve, reject };
        if (pending.length === 0) firstBufferedAt = Date.now();
        pending.push(entry);
        pendingPoints += pointsOf(entry);
        arm();
        pump();
      });
    },
  };
}
