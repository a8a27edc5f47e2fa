// Jobs over the whole registry (stability metrics, rated energy) run once per period of their schedule
// across every analyzer instance. Periods are aligned on the epoch (shifted by `phaseMs`) in Postgres'
// clock (`now()`): an instance runs period P only if it moves the job's row of `analyzer_job_leases` to P, or takes over P
// when P is unfinished and its lease ran out (the holder died or lost Postgres). The holder renews the
// lease while the round runs; the finished round is announced with NOTIFY `analyzer_job_done`, so the
// other instances refresh what they hold in memory. Every instance tries at each period's start (and at
// least once per lease, to take over a dead holder's period); a single instance thus runs at start when
// the current period has not run yet, then at the start of each period.
import type { Logger } from '@offsite/runtime';
import { withTimeout } from '@offsite/runtime';
import { listenChannel } from '@offsite/store';
import type pg from 'pg';
import type { Db } from './analyzer-db.js';

/** The NOTIFY channel of finished rounds; the payload is a `JobDone` as JSON. */
export const JOB_DONE_CHANNEL = 'analyzer_job_done';

export interface JobDone {
  /** Postgres schema of the analyzer's tables (tests share a database). */
  schema: string;
  job: string;
  /** Instance that ran the round. */
  owner: string;
  /** The round changed what instances hold in memory (e.g. a rated energy was derived). */
  changed: boolean;
}

export interface ScheduledJob {
  start(): void;
  stop(deadlineMs: number): Promise<void>;
  /** Runs a round now, outside the schedule and its lease (or waits for the running one); announced as well. */
  runNow(): Promise<void>;
}

export interface ScheduledJobOptions {
  /** The job's key in `analyzer_job_leases`. */
  name: string;
  /** Length of a period (0 disables the schedule; runNow still works). */
  intervalMs: number;
  /** Periods start this long after the epoch's multiples of the interval (default 0). */
  phaseMs?: number;
  /** How long a claim holds without renewal; renewed every third of it while the round runs. */
  leaseMs: number;
  db: Db;
  schema: string;
  /** This instance's id (host, pid and a random part). */
  owner: string;
  /** One round; resolves to whether the other instances must refresh (`JobDone.changed`). */
  run: () => Promise<boolean>;
  logger: Logger;
}

async function claim(o: ScheduledJobOptions): Promise<Date | null> {
  const res = await o.db.query<{ period_start: Date }>(
    `with p as (select to_timestamp((((extract(epoch from now()) * 1000)::bigint - $5::bigint) / $2::bigint * $2::bigint
                                     + $5::bigint) / 1000.0) as period_start)
     insert into analyzer_job_leases as l (job, period_start, owner, lease_until)
     select $1, p.period_start, $3, now() + make_interval(secs => $4::double precision / 1000) from p
     on conflict (job) do update set period_start = excluded.period_start, owner = excluded.owner,
       claimed_at = now(), lease_until = excluded.lease_until, finished_at = null
      where l.period_start < excluded.period_start
         or (l.period_start = excluded.period_start and l.finished_at is null and l.lease_until < now())
     returning period_start`,
    [o.name, o.intervalMs, o.owner, o.leaseMs, o.phaseMs ?? 0],
  );
  return res.rows[0]?.period_start ?? null;
}

async function renew(o: ScheduledJobOptions, period: Date): Promise<boolean> {
  const res = await o.db.query(
    `update analyzer_job_leases set lease_until = now() + make_interval(secs => $4::double precision / 1000)
      where job = $1 and owner = $2 and period_start = $3 and finished_at is null`,
    [o.name, o.owner, period, o.leaseMs],
  );
  return res.rowCount === 1;
}

function donePayload(o: ScheduledJobOptions, changed: boolean): string {
  return JSON.stringify({ schema: o.schema, job: o.name, owner: o.owner, changed } satisfies JobDone);
}

/** Marks the period finished and announces it, in one statement (nothing is announced for a lost lease). */
async function finish(o: ScheduledJobOptions, period: Date, changed: boolean): Promise<boolean> {
  const res = await o.db.query(
    `with done as (
       update analyzer_job_leases set finished_at = now(), lease_until = now()
        where job = $1 and owner = $2 and period_start = $3 and finished_at is null returning job)
     select pg_notify($4, $5) from done`,
    [o.name, o.owner, period, JOB_DONE_CHANNEL, donePayload(o, changed)],
  );
  return res.rowCount === 1;
}

/** A failed round gives its period back at once: the next attempt (any instance's) retries it. */
async function release(o: ScheduledJobOptions, period: Date): Promise<void> {
  await o.db.query(
    `update analyzer_job_leases set lease_until = now()
      where job = $1 and owner = $2 and period_start = $3 and finished_at is null`,
    [o.name, o.owner, period],
  );
}

export function createScheduledJob(o: ScheduledJobOptions): ScheduledJob {
  const log = o.logger.child({ component: 'schedule', job: o.name });
  let timer: NodeJS.Timeout | undefined;
  /** Renews the lease of the round in progress. */
  let renewal: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const exclusive = (round: () => Promise<void>): Promise<void> => {
    if (running) return running;
    running = round().finally(() => (running = undefined));
    return running;
  };

  async function scheduledRound(): Promise<void> {
    const period = await claim(o);
    if (!period) return;
    const started = Date.now();
    log.info({ period: period.toISOString(), owner: o.owner }, 'scheduled job round started');
    renewal = setInterval(
      () => {
        renew(o, period)
          .then((held) => {
            if (!held)
              log.warn({ period: period.toISOString() }, 'job lease lost: another instance took over');
          })
          .catch((err: unknown) => log.warn({ err }, 'job lease renewal failed'));
      },
      Math.max(10, Math.floor(o.leaseMs / 3)),
    );
    renewal.unref();
    try {
      const changed = await o.run();
      clearInterval(renewal);
      const held = await finish(o, period, changed);
      log.info(
        { period: period.toISOString(), ms: Date.now() - started, changed, held },
        'scheduled job round done',
      );
    } catch (err) {
      clearInterval(renewal);
      await release(o, period).catch(() => undefined);
      throw err;
    }
  }

  function next(): void {
    if (stopped) return;
    // At the next period's start, or after a lease at the latest (to take over a dead holder's period).
    const toBoundary = o.intervalMs - ((Date.now() - (o.phaseMs ?? 0)) % o.intervalMs) + 10;
    timer = setTimeout(
      () => {
        exclusive(scheduledRound)
          .catch((err: unknown) => log.error({ err }, 'job round failed'))
          .finally(next);
      },
      Math.min(toBoundary, o.leaseMs),
    );
    timer.unref();
  }

  return {
    start() {
      if (o.intervalMs <= 0) return;
      void exclusive(scheduledRound)
        .catch((err: unknown) => log.error({ err }, 'job round failed'))
        .finally(next);
    },
    runNow: () =>
      exclusive(async () => {
        const changed = await o.run();
        await o.db.query('select pg_notify($1, $2)', [JOB_DONE_CHANNEL, donePayload(o, changed)]);
      }).catch((err: unknown) => log.error({ err }, 'job round failed')),
    async stop(deadlineMs) {
      stopped = true;
      clearTimeout(timer);
      if (running) await withTimeout(running, deadlineMs, `${o.name} job`).catch(() => undefined);
      // A round that overran the deadline keeps running but no longer holds its period.
      clearInterval(renewal);
    },
  };
}

/** LISTEN for finished rounds of `schema`'s jobs on a dedicated connection; returns how to stop listening. */
export function listenJobDone(
  client: pg.ClientBase,
  schema: string,
  onDone: (done: JobDone) => void,
): Promise<() => Promise<void>> {
  return listenChannel(client, JOB_DONE_CHANNEL, (payload) => {
    try {
      const done = JSON.parse(payload) as JobDone;
      if (done.schema === schema) onDone(done);
    } catch {
      // Not ours: the channel carries only this module's JSON.
    }
  });
}
