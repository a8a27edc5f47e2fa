import { validateTelemetryV1, type TelemetryV1, type TelemetryDlqV1 } from '@offsite/contracts';
import { InfluxError, toLine } from '@offsite/influx';
import type { ConsumedBatch, ConsumedMessage } from '@offsite/kafka';
import { OffsiteError, type Logger } from '@offsite/runtime';
import { dlqRecord, type WriterDlqReason } from './dlq.js';
import type { WriterMetrics } from './metrics.js';
import { telemetryToPoints } from './points.js';

/** The slice of @offsite/influx's writer this pipeline calls. */
export interface LineSink {
  write(lines: string[]): Promise<void>;
}

/** Where rejected input goes; resolves once the DLQ records are durable (Kafka acks=-1). */
export interface DlqSink {
  send(records: TelemetryDlqV1[]): Promise<void>;
}

export interface PipelineOptions {
  influx: LineSink;
  dlq: DlqSink;
  logger: Logger;
  metrics: WriterMetrics;
  /** Flush once this many points are buffered (across partitions); also the size of one write. */
  maxBatchPoints: number;
  /** Flush at the latest this long after the first reading was buffered. */
  maxBatchDelayMs: number;
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

interface Line {
  line: string;
  measurement: string;
  message: ConsumedMessage;
  parsed: TelemetryV1;
}

interface Entry {
  lines: Line[];
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

/** Decodes one Kafka record into line-protocol lines, or a DLQ record saying why it cannot be stored. */
export function decodeMessage(
  m: ConsumedMessage,
  now: Date,
): { lines: Line[] } | { dlq: TelemetryDlqV1; reason: WriterDlqReason } {
  const fail = (reason: WriterDlqReason, message: string, parsed?: object) => ({
    dlq: dlqRecord(m, reason, message, now, parsed),
    reason,
  });
  let json: unknown;
  try {
    json = JSON.parse((m.value ?? Buffer.alloc(0)).toString('utf8'));
  } catch (e) {
    return fail('json.invalid', `not JSON: ${(e as Error).message}`);
  }
  const v = validateTelemetryV1(json);
  if (!v.ok)
    return fail(
      'schema.invalid',
      `not a telemetry.v1 event: ${v.errors.join('; ')}`,
      typeof json === 'object' && json !== null ? json : undefined,
    );
  try {
    const lines = telemetryToPoints(v.value).map((p) => ({
      line: toLine(p),
      measurement: p.measurement,
      message: m,
      parsed: v.value,
    }));
    return { lines };
  } catch (e) {
    return fail('influx.invalid-point', (e as Error).message, v.value);
  }
}

export function createPipeline(opts: PipelineOptions): Pipeline {
  const log = opts.logger.child({ component: 'pipeline' });
  const random = opts.random ?? Math.random;
  let pending: Entry[] = [];
  let pendingPoints = 0;
  let firstBufferedAt = 0;
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();
  let available = true;
  let closing = false;
  let wake: (() => void) | undefined;
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
      const t = setTimeout(() => {
        wake = undefined;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(t);
        wake = undefined;
        resolve();
      };
    });

  /** Writes the lines, retrying what may succeed later; returns the lines InfluxDB refuses for good. */
  const writeLines = async (lines: Line[], entries: Entry[]): Promise<{ line: Line; why: string }[]> => {
    let attempt = 0;
    for (;;) {
      try {
        await opts.influx.write(lines.map((l) => l.line));
        opts.metrics.batchPoints.observe(lines.length);
        for (const l of lines) opts.metrics.points.inc({ measurement: l.measurement });
        setAvailable(true);
        return [];
      } catch (err) {
        const code = err instanceof InfluxError ? err.code : 'INFLUX_UNAVAILABLE';
        opts.metrics.writeErrors.inc({ code });
        if (code === 'INFLUX_REJECTED' || code === 'INFLUX_TOO_LARGE') {
          // Find the refused lines by halving: the rest is written (again: writes are idempotent).
          if (lines.length === 1) return [{ line: lines[0]!, why: (err as Error).message }];
          const mid = Math.ceil(lines.length / 2);
          return [
            ...(await writeLines(lines.slice(0, mid), entries)),
            ...(await writeLines(lines.slice(mid), entries)),
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
          { err, code, attempt, delayMs: Math.round(delay), lines: lines.length },
          'InfluxDB write failed; retrying',
        );
        // Keep the group membership of the waiting batches alive while InfluxDB is away.
        await Promise.all(entries.map((e) => e.heartbeat().catch(() => undefined)));
        await sleep(delay);
        if (closing) throw new ShutdownError();
      }
    }
  };

  const flushNow = async (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const entries = pending;
    const startedAt = firstBufferedAt;
    pending = [];
    pendingPoints = 0;
    if (entries.length === 0) return;
    try {
      const lines = entries.flatMap((e) => e.lines);
      const rejected: { line: Line; why: string }[] = [];
      for (let i = 0; i < lines.length; i += opts.maxBatchPoints) {
        rejected.push(...(await writeLines(lines.slice(i, i + opts.maxBatchPoints), entries)));
      }
      const dlq = entries.flatMap((e) => e.dlq);
      const seen = new Set<string>();
      const now = new Date();
      for (const r of rejected) {
        const m = r.line.message;
        const key = `${m.topic}/${m.partition}/${m.offset}`;
        if (seen.has(key)) continue;
        seen.add(key);
        dlq.push(dlqRecord(m, 'influx.rejected', r.why, now, r.line.parsed));
        opts.metrics.dlq.inc({ reason: 'influx.rejected' });
        log.warn({ origin: key, reason: r.why }, 'InfluxDB refused a reading; sent to the DLQ');
      }
      if (dlq.length > 0) await opts.dlq.send(dlq);
      opts.metrics.flushSeconds.observe((Date.now() - startedAt) / 1000);
      log.debug({ lines: lines.length, dlq: dlq.length, batches: entries.length }, 'flushed');
      for (const e of entries) e.resolve();
    } catch (err) {
      for (const e of entries) e.reject(err);
    }
  };

  const scheduleFlush = () => {
    flushing = flushing.then(flushNow, flushNow);
  };

  return {
    isAvailable: () => available,
    shutdown() {
      closing = true;
      wake?.();
      if (pending.length > 0) scheduleFlush();
    },
    handle(batch) {
      if (closing) return Promise.reject(new ShutdownError());
      const now = new Date();
      const lines: Line[] = [];
      const dlq: TelemetryDlqV1[] = [];
      for (const m of batch.messages) {
        const r = decodeMessage(m, now);
        if ('dlq' in r) {
          dlq.push(r.dlq);
          opts.metrics.dlq.inc({ reason: r.reason });
          opts.metrics.readings.inc({ outcome: 'dlq' });
        } else {
          lines.push(...r.lines);
          opts.metrics.readings.inc({ outcome: 'ok' });
        }
      }
      return new Promise<void>((resolve, reject) => {
        if (pending.length === 0) firstBufferedAt = Date.now();
        pending.push({ lines, dlq, heartbeat: batch.heartbeat, resolve, reject });
        pendingPoints += lines.length;
        if (pendingPoints >= opts.maxBatchPoints) scheduleFlush();
        else if (!timer) timer = setTimeout(scheduleFlush, opts.maxBatchDelayMs);
      });
    },
  };
}
