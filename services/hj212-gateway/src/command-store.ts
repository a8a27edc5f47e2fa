/**
 * The gateway's command records in Postgres (`gateway_commands`, its audit trail
 * `gateway_command_events`; migration 050). A request is inserted once (its id is deterministic for
 * the platform's own requests), claimed under a lease by the instance that holds the logger's
 * connection, and every step is an event. Parameterised statements only.
 */
import type pg from 'pg';
import type { CommandCn, CommandRow, FinalStatus, Trigger } from './command-plan.js';

export interface NewCommand {
  readonly id: string;
  readonly mn: string;
  readonly cn: CommandCn;
  readonly beginTime?: Date | null;
  readonly endTime?: Date | null;
  readonly trigger: Trigger;
  readonly requestedBy?: string | null;
  readonly expiresAt: Date;
  readonly maxAttempts: number;
}

export interface CommandStore {
  /** Inserts a request (claimed by `instance` when given); false when the id existed. */
  insert(c: NewCommand, instance?: string, leaseMs?: number): Promise<boolean>;
  /** Claims due queued requests for the MNs this instance holds. */
  claim(instance: string, mns: readonly string[], limit: number, leaseMs: number): Promise<CommandRow[]>;
  /** Keeps this instance's claims; frees claims whose lease ran out; expires unsent requests. */
  maintain(instance: string, leaseMs: number): Promise<{ expired: { id: string; cn: string }[] }>;
  sent(id: string, instance: string, qn: string, attempts: number): Promise<void>;
  /** Back to the queue (the next attempt after a backoff, or the connection went away). */
  requeue(id: string, instance: string, nextAttemptAt: Date, detail: AttemptDetail): Promise<void>;
  finish(id: string, instance: string, status: FinalStatus, detail: AttemptDetail): Promise<void>;
  /** Frees this instance's claims on an MN whose connection closed (every MN: null). */
  release(instance: string, mn: string | null): Promise<void>;
}

export interface AttemptDetail {
  readonly qn?: string | null;
  readonly qnRtn?: string | null;
  readonly exeRtn?: string | null;
  readonly reply?: Readonly<Record<string, string>> | null;
  readonly readings?: number;
  readonly outcome?: string;
}

interface Row {
  id: string;
  mn: string;
  cn: CommandCn;
  begin_time: Date | null;
  end_time: Date | null;
  trigger: Trigger;
  requested_by: string | null;
  expires_at: Date;
  attempts: number;
  max_attempts: number;
  next_attempt_at: Date;
}

const toRow = (r: Row): CommandRow => ({
  id: r.id,
  mn: r.mn,
  cn: r.cn,
  beginTime: r.begin_time,
  endTime: r.end_time,
  trigger: r.trigger,
  requestedBy: r.requested_by,
  expiresAt: r.expires_at,
  attempts: r.attempts,
  maxAttempts: r.max_attempts,
  nextAttemptAt: r.next_attempt_at,
});

const EVENT = `insert into gateway_command_events (command_id, event, instance, detail) values ($1, $2, $3, $4)`;

export function createCommandStore(pool: pg.Pool): CommandStore {
  return {
    async insert(c, instance, leaseMs = 0) {
      const r = await pool.query(
        `with ins as (
           insert into gateway_commands (id, mn, cn, begin_time, end_time, trigger, requested_by, expires_at,
                                         max_attempts, status, instance, lease_until)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
                   case when $11::text is null then null else now() + make_interval(secs => $12::double precision / 1000) end)
           on conflict (id) do nothing
           returning id)
         insert into gateway_command_events (command_id, event, instance, detail)
         select id, 'requested', $11, $13 from ins returning command_id`,
        [
          c.id,
          c.mn,
          c.cn,
          c.beginTime ?? null,
          c.endTime ?? null,
          c.trigger,
          c.requestedBy ?? null,
          c.expiresAt,
          c.maxAttempts,
          instance ? 'claimed' : 'queued',
          instance ?? null,
          leaseMs,
          { trigger: c.trigger, requestedBy: c.requestedBy ?? null },
        ],
      );
      return (r.rowCount ?? 0) > 0;
    },

    async claim(instance, mns, limit, leaseMs) {
      if (mns.length === 0) return [];
      // RETURNING follows no order, and times reach JavaScript in whole milliseconds: the order in which a
      // logger is asked (2051 before 2061 for one gap) is set here, at the database's precision.
      const r = await pool.query<Row>(
        `with claimed as (
           update gateway_commands set status = 'claimed', instance = $1, updated_at = now(),
                  lease_until = now() + make_interval(secs => $4::double precision / 1000)
            where id in (select id from gateway_commands
                          where status = 'queued' and next_attempt_at <= now() and mn = any($2::text[])
                          order by requested_at limit $3 for update skip locked)
            returning id, mn, cn, begin_time, end_time, trigger, requested_by, expires_at, attempts, max_attempts,
                      next_attempt_at, requested_at)
         select * from claimed order by next_attempt_at, requested_at, id`,
        [instance, mns, limit, leaseMs],
      );
      if (r.rows.length > 0)
        await pool.query(
          `insert into gateway_command_events (command_id, event, instance) select unnest($1::text[]), 'claimed', $2`,
          [r.rows.map((x) => x.id), instance],
        );
      return r.rows.map(toRow);
    },

    async maintain(instance, leaseMs) {
      await pool.query(
        `update gateway_commands set lease_until = now() + make_interval(secs => $2::double precision / 1000)
          where instance = $1 and status in ('claimed', 'sent')`,
        [instance, leaseMs],
      );
      await pool.query(
        `with freed as (
           update gateway_commands set status = 'queued', instance = null, lease_until = null, updated_at = now()
            where status in ('claimed', 'sent') and lease_until < now() returning id, instance)
         insert into gateway_command_events (command_id, event, detail)
         select id, 'lease-expired', jsonb_build_object('instance', instance) from freed`,
      );
      const expired = await pool.query<{ id: string; cn: string }>(
        `with ex as (
           update gateway_commands set status = 'expired', updated_at = now(), finished_at = now()
            where status = 'queued' and expires_at < now() returning id, cn)
         , ev as (insert into gateway_command_events (command_id, event) select id, 'expired' from ex)
         select id, cn from ex`,
      );
      return { expired: expired.rows };
    },

    async sent(id, instance, qn, attempts) {
      await pool.query(
        `update gateway_commands set status = 'sent', qn = $3, attempts = $4, qn_rtn = null, exe_rtn = null,
                updated_at = now() where id = $1 and instance = $2`,
        [id, instance, qn, attempts],
      );
      await pool.query(EVENT, [id, 'sent', instance, { qn, attempt: attempts }]);
    },

    async requeue(id, instance, nextAttemptAt, detail) {
      await pool.query(
        `update gateway_commands set status = 'queued', instance = null, lease_until = null, next_attempt_at = $3,
                qn_rtn = coalesce($4, qn_rtn), readings = readings + $5, updated_at = now()
          where id = $1 and instance = $2`,
        [id, instance, nextAttemptAt, detail.qnRtn ?? null, detail.readings ?? 0],
      );
      await pool.query(EVENT, [id, 'retry', instance, { ...detail, nextAttemptAt }]);
    },

    async finish(id, instance, status, d) {
      await pool.query(
        `update gateway_commands set status = $3, qn_rtn = coalesce($4, qn_rtn), exe_rtn = coalesce($5, exe_rtn),
                reply = coalesce($6, reply), readings = readings + $7, lease_until = null, updated_at = now(),
                finished_at = now()
          where id = $1 and instance = $2`,
        [id, instance, status, d.qnRtn ?? null, d.exeRtn ?? null, d.reply ?? null, d.readings ?? 0],
      );
      await pool.query(EVENT, [id, status, instance, d]);
    },

    async release(instance, mn) {
      await pool.query(
        `with freed as (
           update gateway_commands set status = 'queued', instance = null, lease_until = null, updated_at = now()
            where instance = $1 and ($2::text is null or mn = $2) and status in ('claimed', 'sent') returning id)
         insert into gateway_command_events (command_id, event, instance) select id, 'released', $1 from freed`,
        [instance, mn],
      );
    },
  };
}
