// Keeps the stored transmission figures (./transmission-days.ts) ahead of the requests. A BullMQ job scheduler
// (./regulation/queues.ts: every console instance upserts it, one instance runs each tick) ticks every 15
// minutes; a tick computes the city's counts of the current Asia/Shanghai month, and in a month's first two days
// of the month before too. Computing stores every day that has closed (STORE_AFTER_MS after its last slot) and
// every stored day made stale by the registry or by late data, so the first overview, statistics or report
// request of a month reads only today's minute data from InfluxDB instead of the whole month. With storing off
// there is nothing to keep, and the console does not start it.
import type { ConnectionOptions } from 'bullmq';
import { transmissionPlan } from '@offsite/domain';
import { addDays, shanghaiDate } from '@offsite/domain/calendar';
import type { Logger } from '@offsite/runtime';
import type { Queryable } from '@offsite/store';
import type { Principal } from './principal.js';
import { createScheduledTick } from './regulation/queues.js';
import { monthCounts, type DayCountsUse, type TransmissionSource } from './transmission-days.js';
import { transmissionInput } from './transmission.js';

/** Whom a tick computes for: the whole city (no district or enterprise scope). */
const WHOLE_CITY: Principal = {
  userId: 'console:transmission-warm',
  username: 'transmission-warm',
  displayName: 'transmission-warm',
  role: 'city-supervisor',
  districtId: null,
  enterpriseId: null,
};

export interface TransmissionWarmOptions {
  db: Queryable;
  source: TransmissionSource;
  connection: ConnectionOptions;
  prefix?: string | undefined;
  logger: Logger;
  /** The scheduler's cron (default: every 15 minutes). */
  schedule?: { pattern: string; tz: string };
  now?: () => number;
}

export interface TransmissionWarm {
  /** One tick at `now`: each month it computed, with what was reused, read from InfluxDB and stored. */
  tick(now?: number): Promise<{ month: string; use: DayCountsUse }[]>;
  start(): Promise<void>;
  close(timeoutMs?: number): Promise<void>;
}

/** The months a tick at `now` keeps: the current one and, in its first two days, the one before. */
export function monthsToWarm(now: number): string[] {
  const today = shanghaiDate(now);
  return [...new Set([addDays(today, -2).slice(0, 7), today.slice(0, 7)])];
}

export function createTransmissionWarm(o: TransmissionWarmOptions): TransmissionWarm {
  const log = o.logger.child({ component: 'transmission-warm' });
  const clock = o.now ?? Date.now;

  async function tick(now = clock()) {
    const done: { month: string; use: DayCountsUse }[] = [];
    for (const month of monthsToWarm(now)) {
      const { input } = await transmissionInput(o.db, WHOLE_CITY, { month }, now, o.source.threshold);
      const use: DayCountsUse = { reused: 0, computed: 0, stored: 0 };
      await monthCounts(o.db, o.source, transmissionPlan(input), now, use);
      done.push({ month, use });
    }
    if (done.some((d) => d.use.stored > 0)) log.info({ months: done }, 'stored transmission days filled');
    return done;
  }

  const ticker = createScheduledTick({
    name: 'transmission-warm',
    connection: o.connection,
    prefix: o.prefix,
    schedule: o.schedule ?? { pattern: '*/15 * * * *', tz: 'Asia/Shanghai' },
    run: async () =>
      (await tick())
        .map((d) => `${d.month}: reused ${d.use.reused}, computed ${d.use.computed}, stored ${d.use.stored}`)
        .join('; '),
    log,
  });
  return { tick, start: ticker.start, close: ticker.close };
}
