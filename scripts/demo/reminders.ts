/**
 * The reminders of a demo run, read from Postgres (alert_cases, alert_notifications) and the outbox:
 * what the demo policy makes the alerter send, whether it has landed, and the text of one reminder.
 * Used by summary.ts, which waits (bounded) until `missing()` is empty before it reports.
 */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { parse as parseYaml } from 'yaml';

export interface GroupRow {
  group_key: string;
  policy: string | null;
  rules: string[];
  all_resolved: boolean;
}
export interface NotificationRow {
  id: string;
  group_key: string;
  kind: string;
  round: number;
  channel: string;
  status: string;
  provider: string | null;
  recipient_kind: string;
}
export interface ReminderState {
  groups: GroupRow[];
  notes: NotificationRow[];
  /** Notifications recorded `sent` by an outbox provider whose file is not (yet) in the outbox. */
  filesMissing: string[];
}

/** Policy entry name → sends a resolution notice (from the demo policy file). */
export async function resolutionNotices(policyPath: string): Promise<Map<string, boolean>> {
  const doc = parseYaml(await readFile(policyPath, 'utf8')) as {
    entries?: { name: string; resolutionNotice: boolean }[];
  };
  return new Map((doc.entries ?? []).map((e) => [e.name, e.resolutionNotice]));
}

/** Outbox file of a notification: `<outbox>/<channel>/<id>.json` (the outbox channel's layout). */
export const outboxFile = (outboxDir: string, n: Pick<NotificationRow, 'channel' | 'id'>) =>
  join(outboxDir, n.channel, `${n.id}.json`);

export async function readReminderState(
  pool: pg.Pool,
  since: Date,
  outboxDir: string,
): Promise<ReminderState> {
  const groups = await pool.query<GroupRow>(
    `select group_key, min(policy) policy, array_agg(distinct rule order by rule) rules,
            bool_and(state = 'resolved') all_resolved
       from alert_cases
      where updated_at >= $1 and group_key is not null and suppressed_reason is null
      group by group_key order by group_key`,
    [since],
  );
  const notes = await pool.query<NotificationRow>(
    `select id, group_key, kind, round, channel, status, provider, recipient_kind
       from alert_notifications where created_at >= $1 order by id`,
    [since],
  );
  const filesMissing: string[] = [];
  for (const n of notes.rows) {
    if (n.status !== 'sent' || !n.provider?.startsWith('outbox')) continue;
    const f = outboxFile(outboxDir, n);
    if (
      !(await access(f).then(
        () => true,
        () => false,
      ))
    )
      filesMissing.push(f);
  }
  return { groups: groups.rows, notes: notes.rows, filesMissing };
}

/**
 * What the demo still waits for: each notification group of this run has its first round (reminder
 * or supervisor alert) unless all its cases resolved before one was sent; a group whose cases all
 * resolved after a reminder has its resolution notice when its policy entry sends one; no send is
 * still in flight; and every outbox send is on disk. Repeats and escalations are reported but not
 * waited for (they depend on how long a case stays open).
 */
export function missing(s: ReminderState, notices: Map<string, boolean>): string[] {
  const out: string[] = [];
  for (const g of s.groups) {
    const mine = s.notes.filter((n) => n.group_key === g.group_key);
    const first = mine.filter(
      (n) => n.round === 1 && (n.kind === 'reminder' || n.kind === 'supervisor-alert'),
    );
    // A group whose cases all resolved before its first round was due gets nothing (the alerter
    // reminds only about open cases, and sends a resolution notice only after a reminder).
    if (first.length === 0) {
      if (!g.all_resolved) out.push(`${g.group_key}: first round`);
    } else if (g.all_resolved && notices.get(g.policy ?? '') && !mine.some((n) => n.kind === 'resolved'))
      out.push(`${g.group_key}: resolution notice`);
  }
  const sending = s.notes.filter((n) => n.status === 'sending').length;
  if (sending > 0) out.push(`${sending} notifications still sending`);
  if (s.filesMissing.length > 0) out.push(`${s.filesMissing.length} outbox files not written yet`);
  return out;
}

/** `a/b 3, c/d 1` of a list of rows, counted by a key. */
export function countBy<T>(rows: readonly T[], key: (r: T) => string): string {
  const m = new Map<string, number>();
  for (const r of rows) m.set(key(r), (m.get(key(r)) ?? 0) + 1);
  return (
    [...m]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || 'none'
  );
}

/**
 * The first-round reminder to an enterprise contact of the group holding `rule` (the demo's
 * treatment-idle case of the enterprise that resumed work), e-mail preferred: file and message.
 */
export async function sampleReminder(
  s: ReminderState,
  rule: string,
  outboxDir: string,
): Promise<{ file: string; subject: string; text: string } | null> {
  const groups = new Set(s.groups.filter((g) => g.rules.includes(rule)).map((g) => g.group_key));
  const candidates = s.notes
    .filter(
      (n) =>
        groups.has(n.group_key) &&
        n.kind === 'reminder' &&
        n.round === 1 &&
        n.recipient_kind === 'enterprise-contact' &&
        n.status === 'sent' &&
        n.provider?.startsWith('outbox'),
    )
    .sort((a, b) => Number(b.channel === 'email') - Number(a.channel === 'email'));
  for (const n of candidates) {
    const file = outboxFile(outboxDir, n);
    try {
      const msg = JSON.parse(await readFile(file, 'utf8')) as { subject?: string; text?: string };
      if (msg.text) return { file, subject: msg.subject ?? '', text: msg.text };
    } catch {
      // not readable: try the next one
    }
  }
  return null;
}

/** Groups whose cases all resolved before a first round was sent: the alerter sends them nothing. */
export function resolvedUnsent(s: ReminderState): number {
  return s.groups.filter((g) => g.all_resolved && !s.notes.some((n) => n.group_key === g.group_key)).length;
}
