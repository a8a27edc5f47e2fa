/**
 * Requests for the centre's commands that reach the gateway over Kafka, recorded in Postgres as
 * queued commands (the instance holding the logger's connection sends them):
 *
 * - `deviation.v1`: the analyzer owns what is missing. An offline deviation that resolved (data
 *   resumed) names the device and the gap; the gateway asks the logger for that period's history
 *   (2051 minute data, 2061 hourly, 2031 daily for a gap of a day or more). Ids are derived from the
 *   deviation id, so a redelivered or revised deviation asks once.
 * - `hj212.command.v1`: a supervisor's request from the console, recorded under its own id.
 *
 * The consumer commits offsets after this resolves (records inserted, rejects in the DLQ).
 */
import {
  decodeKafkaRecord,
  kafkaDlqRecord,
  validateDeviationV1,
  validateHj212CommandV1,
  type DeviationV1,
  type TelemetryDlqV1,
} from '@offsite/contracts';
import type { ConsumedBatch } from '@offsite/kafka';
import type { Logger } from '@offsite/runtime';
import { backfillRequests, type CommandCn } from './command-plan.js';
import type { CommandStore, NewCommand } from './command-store.js';
import type { GatewayMetrics } from './metrics.js';

export interface IntakeOptions {
  readonly store: CommandStore;
  readonly topics: { readonly deviation: string; readonly command: string };
  /** Whether an MN is an HJ 212 device of the registry (offline deviations also name meters). */
  readonly isLogger: (mn: string) => Promise<boolean>;
  /** How long a backfill waits for its logger; a supervisor's request. */
  readonly backfillExpiryMs: number;
  readonly supervisorExpiryMs: number;
  readonly maxAttempts: number;
  readonly dlq: (records: TelemetryDlqV1[]) => Promise<void>;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly now?: () => Date;
}

const time = (v: unknown): number | null => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isFinite(t) ? t : null;
  }
  return null;
};

/** The backfill an offline deviation asks for, or none (not offline, not resolved, no device). */
export function backfillOf(d: DeviationV1, now: Date, expiryMs: number, maxAttempts: number): NewCommand[] {
  if (d.rule !== 'offline' || d.state !== 'resolved') return [];
  const ev = d.evidence.params;
  const mn = typeof ev.deviceId === 'string' ? ev.deviceId : null;
  const start = time(ev.gapStart) ?? time(ev.lastSeenAt) ?? time(d.windowStart);
  const end = time(ev.gapEnd) ?? time(ev.resumedAt) ?? time(d.windowEnd) ?? time(d.resolvedAt);
  if (!mn || start === null || end === null || end <= start) return [];
  return backfillRequests({ start, end }).map((r) => ({
    id: `backfill-${d.id}-${r.cn}`,
    mn,
    cn: r.cn,
    beginTime: r.begin,
    endTime: r.end,
    trigger: 'offline-closed',
    requestedBy: `deviation ${d.id}`,
    expiresAt: new Date(now.getTime() + expiryMs),
    maxAttempts,
  }));
}

export function createCommandIntake(o: IntakeOptions): (batch: ConsumedBatch) => Promise<void> {
  const now = o.now ?? (() => new Date());
  const log = o.logger.child({ component: 'command-intake' });
  const record = async (c: NewCommand) => {
    if (await o.store.insert(c)) {
      o.metrics.commandRequests.inc({ cn: c.cn, event: 'requested' });
      log.info({ id: c.id, mn: c.mn, cn: c.cn, trigger: c.trigger }, 'command requested');
    }
  };
  return async function handle(batch) {
    const rejected: TelemetryDlqV1[] = [];
    for (const m of batch.messages) {
      if (batch.topic === o.topics.deviation) {
        const v = decodeKafkaRecord(m, validateDeviationV1, 'hj212-gateway', now);
        // Deviations are the analyzer's: one this gateway cannot read is not its to reject.
        if (!v.ok) continue;
        for (const c of backfillOf(v.value, now(), o.backfillExpiryMs, o.maxAttempts))
          if (await o.isLogger(c.mn)) await record(c);
        continue;
      }
      const v = decodeKafkaRecord(m, validateHj212CommandV1, 'hj212-gateway', now);
      if (!v.ok) {
        rejected.push(v.dlq);
        o.metrics.dlq.inc({ reason: v.dlq.reason.code });
        continue;
      }
      const r = v.value;
      const begin = r.beginTime ? new Date(r.beginTime) : null;
      const end = r.endTime ? new Date(r.endTime) : null;
      const problem =
        begin && end && end < begin
          ? {
              code: 'command-invalid-period',
              message: `endTime ${r.endTime} is before beginTime ${r.beginTime}`,
            }
          : !(await o.isLogger(r.mn))
            ? {
                code: 'command-unknown-device',
                message: `MN ${r.mn} is not an HJ 212 device of the registry`,
              }
            : null;
      if (problem) {
        const dlq = kafkaDlqRecord({ ...m, service: 'hj212-gateway', ...problem, receivedAt: now() });
        rejected.push(dlq);
        o.metrics.dlq.inc({ reason: dlq.reason.code });
        continue;
      }
      await record({
        id: r.id,
        mn: r.mn,
        cn: r.cn as CommandCn,
        beginTime: begin,
        endTime: end,
        trigger: 'supervisor',
        requestedBy: r.requestedBy,
        expiresAt: new Date(now().getTime() + o.supervisorExpiryMs),
        maxAttempts: o.maxAttempts,
      });
    }
    if (rejected.length > 0) {
      await o.dlq(rejected);
      log.warn({ count: rejected.length, topic: batch.topic }, 'command requests sent to the DLQ');
    }
  };
}
