// Planning: a case's group and first round, the plan jobs (rounds, escalations, resolution notices)
// and their fan-out into one send job per recipient and channel.
import type { DeviationV1 } from '@offsite/contracts';
import { renderReminder, type Logger, type ReminderKind } from '@offsite/notify';
import { signAckToken } from './ack.js';
import { createBatcher } from './batcher.js';
import type { Dispatch, PlanJob } from './dispatch.js';
import { groupMessageId, planJobs, type SendJobData } from './jobs.js';
import {
  afterQuietHours,
  decide,
  FALSIFICATION_RULES,
  groupKeyFor,
  type AlertPolicy,
  type PolicyEntry,
} from './policy.js';
import * as repo from './repo.js';

export interface PlanningDeps {
  db: repo.Db;
  /** The policy with its timers already scaled. */
  policy: AlertPolicy;
  dispatch: Pick<Dispatch, 'firstProvider' | 'enqueuePlan' | 'enqueueSend'>;
  ack: { secret: string; baseUrl: string };
  logger: Logger;
  now: () => Date;
}

interface Recipient {
  kind: 'enterprise-contact' | 'supervisor';
  id: string;
  name: string;
  email?: string;
  phone?: string;
  /** The enterprise contact's openid for the bureau's official account (WeChat template messages). */
  wechatOpenid?: string;
  language: 'zh' | 'en';
}

/** The policy entry of that name. */
export const entryNamed = (policy: AlertPolicy, name: string | null): PolicyEntry | undefined =>
  policy.entries.find((e) => e.name === name);

export function createPlanning(deps: PlanningDeps) {
  const { db, policy, dispatch, now } = deps;
  const log = deps.logger.child({ component: 'alerter' });
  const entryByName = (name: string | null) => entryNamed(policy, name);
  const delayUntil = (t: Date) => Math.max(0, t.getTime() - now().getTime());

  // Group assignments and the rounds' group contexts of the deviations and plan jobs running at the
  // same time share one statement; each caller awaits its own item, so nothing is enqueued before its
  // case has its group, and a failed batch fails each of its callers.
  const caseGroups = createBatcher(
    async (items: { deviationId: string; groupKey: string; policy: string }[]) => {
      await repo.setCaseGroups(db, items);
      return items.map(() => undefined);
    },
    { maxSize: 200, key: (g) => g.deviationId },
  );
  const contexts = createBatcher((keys: string[]) => repo.groupContexts(db, keys), { maxSize: 100 });

  /** First round of a group: at the end of its group-wait bucket, after quiet hours unless urgent. */
  async function planFirstRound(groupKey: string, urgent: boolean): Promise<void> {
    const bucket = Number(/\.(\d+)(?:\.f)?$/.exec(groupKey)?.[1] ?? NaN);
    const bucketEnd = Number.isFinite(bucket) ? new Date((bucket + 1) * policy.groupWaitMs) : now();
    const at = afterQuietHours(bucketEnd, policy.quietHours, urgent);
    await dispatch.enqueuePlan(planJobs.round(groupKey, 1, delayUntil(at)), true);
  }

  /** A new case: suppressed by the policy, or put in its group with the group's first round planned. */
  async function plan(ev: DeviationV1, known?: repo.PlanContext): Promise<'suppressed' | 'planned'> {
    const ctx =
      known ??
      (await repo.planContext(db, ev.enterpriseId, ev.siteId, ev.windowStart, ev.rule !== 'offline'));
    const decision = decide(
      ev,
      {
        supervisionClass: ctx.ent?.supervision_class ?? 'general',
        inMaintenance: ctx.inMaintenance,
        siteOffline: ctx.siteOffline,
      },
      policy,
    );
    if (decision.kind === 'suppress') {
      await repo.setSuppressed(db, ev.id, decision.reason);
      log.info({ deviationId: ev.id, reason: decision.reason }, 'deviation suppressed');
      return 'suppressed';
    }
    const t = now();
    const base = groupKeyFor(ev.enterpriseId, decision.entry.name, t, policy.groupWaitMs);
    const groupKey = decision.supervisorsOnly ? `${base}.f` : base;
    await caseGroups.add({ deviationId: ev.id, groupKey, policy: decision.entry.name });
    await planFirstRound(groupKey, decision.entry.urgent);
    return 'planned';
  }

  /** The resolution notice, when the entry sends one, every case is resolved and a reminder went out. */
  async function planResolution(groupKey: string): Promise<void> {
    const cases = await repo.casesInGroup(db, groupKey);
    const entry = entryByName(cases[0]?.policy ?? null);
    if (!entry?.resolutionNotice || cases.some((c) => c.state !== 'resolved')) return;
    if (!(await repo.hasNotifications(db, groupKey))) return;
    await dispatch.enqueuePlan(planJobs.resolved(groupKey));
  }

  function recipientsFor(
    cases: repo.CaseRow[],
    ctx: repo.GroupContext,
    entry: PolicyEntry,
    escalation: boolean,
  ): Recipient[] {
    const { ent } = ctx;
    const supervisorsOnly = cases.some(
      (c) => c.suspected_falsification || FALSIFICATION_RULES.includes(c.rule),
    );
    const staff = (p: repo.StaffRow): Recipient => ({
      kind: 'supervisor',
      id: p.id,
      name: p.name,
      ...(p.email ? { email: p.email } : {}),
      ...(p.phone ? { phone: p.phone } : {}),
      language: p.language,
    });
    // The console's users on duty (console_recipients_v1), read with the group's cases.
    const byRole = (role: repo.StaffRow['role']) => ctx.staff.filter((s) => s.role === role).map(staff);
    const officers = ent ? byRole('district-officer') : [];
    const supervisors = byRole('city-supervisor');
    if (escalation) return officers;
    const list: Recipient[] = [];
    if (!supervisorsOnly) {
      for (const c of ctx.contacts.filter((k) =>
        (entry.enterpriseRoles as readonly string[]).includes(k.role),
      ))
        list.push({
          kind: 'enterprise-contact',
          id: c.id,
          name: c.name,
          ...(c.email ? { email: c.email } : {}),
          ...(c.phone ? { phone: c.phone } : {}),
          ...(c.wechat_openid ? { wechatOpenid: c.wechat_openid } : {}),
          language: c.language,
        });
    }
    if (entry.districtOfficers) list.push(...officers);
    if (entry.citySupervisors || supervisorsOnly) list.push(...supervisors);
    return list;
  }

  /** One send job per recipient and channel of the group's open cases (all of them for `resolved`). */
  async function fanOut(
    groupKey: string,
    kind: ReminderKind,
    round: number,
    suffix: string,
    escalation = false,
    loaded?: repo.GroupContext,
  ): Promise<number> {
    const ctx = loaded ?? (await contexts.add(groupKey));
    const all = ctx.cases;
    const cases = kind === 'resolved' ? all : all.filter((c) => c.state !== 'resolved');
    const entry = entryByName(all[0]?.policy ?? null);
    if (cases.length === 0 || !entry) return 0;
    const list = recipientsFor(cases, ctx, entry, escalation);
    const { ent, sites: facilities } = ctx;
    const supervisorsOnly = groupKey.endsWith('.f');
    const items = cases.map((c) => ({
      rule: c.rule,
      ...(c.event.factor ? { factor: c.event.factor } : {}),
      severity: c.severity,
      facility: facilities.get(c.site_id) ?? { zh: c.site_id },
      openedAt: new Date(c.opened_at),
      ...(c.resolved_at ? { resolvedAt: new Date(c.resolved_at) } : {}),
      evidence: c.event.evidence.values.map((v) => ({
        time: new Date(v.time),
        factor: v.factor,
        stat: v.stat,
        value: v.value,
        ...(v.limit !== undefined ? { limit: v.limit } : {}),
        ...(v.flag ? { flag: v.flag } : {}),
      })),
      summary: c.event.evidence.summary,
    }));
    const resuming = cases.some((c) => c.in_resumption_window)
      ? ent?.resumption_date
        ? { date: ent.resumption_date }
        : {}
      : undefined;
    const jobs: Promise<void>[] = [];
    for (const r of list) {
      const ackable = r.kind === 'enterprise-contact' && kind === 'reminder';
      const exp = new Date(now().getTime() + policy.ackTtlMs);
      const model = {
        kind: supervisorsOnly ? ('supervisor-alert' as const) : kind,
        round,
        bureau: policy.bureau,
        enterprise: {
          zh: ent?.name_zh ?? cases[0]!.enterprise_id,
          ...(ent?.name_en ? { en: ent.name_en } : {}),
        },
        recipientName: r.name,
        items,
        ...(resuming && r.kind === 'enterprise-contact' ? { resumption: resuming } : {}),
        ...(ackable
          ? {
              ackUrl: `${deps.ack.baseUrl}?t=${signAckToken({ g: groupKey, r: r.id, exp: exp.getTime() }, deps.ack.secret)}`,
              ackExpiresAt: exp,
            }
          : {}),
      };
      const rendered = renderReminder(model, r.language);
      for (const channel of entry.channels) {
        const address = channel === 'sms' ? r.phone : channel === 'wechat' ? r.wechatOpenid : r.email;
        if (!address) continue;
        const first = dispatch.firstProvider(channel);
        if (!first) {
          log.warn({ groupKey, channel }, 'policy names a channel that is not configured; not sent');
          continue;
        }
        const id = groupMessageId(groupKey, r, channel, suffix);
        const job: SendJobData = {
          hop: 0,
          groupKey,
          deviationIds: cases.map((c) => c.deviation_id),
          kind: model.kind,
          round,
          channel,
          recipient: { kind: r.kind, id: r.id },
          message: { id, to: { address, name: r.name }, language: r.language, ...rendered },
        };
        jobs.push(dispatch.enqueueSend(first.provider, model.kind, job, true));
      }
    }
    // One addBulk per provider queue for this fan-out and the others running meanwhile (ids keep it
    // idempotent).
    await Promise.all(jobs);
    return jobs.length;
  }

  /** The plan worker: a round (and the next round and escalation it schedules), an escalation, a resolution notice. */
  async function processPlan(job: PlanJob): Promise<void> {
    const { groupKey } = job.data;
    if (job.name === 'resolved') {
      await fanOut(groupKey, 'resolved', 1, 'resolved');
      return;
    }
    const state = await contexts.add(groupKey);
    const cases = state.cases.filter((c) => c.state !== 'resolved');
    const entry = entryByName(cases[0]?.policy ?? null);
    if (!entry || cases.length === 0) return;
    const acked = state.acked;
    if (job.name === 'escalate') {
      if (acked) return log.info({ groupKey }, 'acknowledged: no escalation');
      await fanOut(groupKey, 'escalation', 1, 'esc', true, state);
      return;
    }
    const round = ('round' in job.data ? job.data.round : undefined) ?? 1;
    if (round > 1 && acked) return; // the enterprise confirmed: stop repeating
    await fanOut(groupKey, 'reminder', round, `r${round}`, false, state);
    if (round < entry.repeat.maxCount) {
      const at = afterQuietHours(
        new Date(now().getTime() + entry.repeat.intervalMs),
        policy.quietHours,
        entry.urgent,
      );
      await dispatch.enqueuePlan(planJobs.round(groupKey, round + 1, delayUntil(at)));
    }
    if (round === 1 && entry.escalateAfterMs !== undefined && !groupKey.endsWith('.f'))
      await dispatch.enqueuePlan(planJobs.escalate(groupKey, entry.escalateAfterMs));
  }

  return { plan, planFirstRound, planResolution, processPlan };
}

export type Planning = ReturnType<typeof createPlanning>;
