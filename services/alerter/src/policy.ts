import { SHANGHAI_OFFSET_MINUTES, shanghaiMinuteOfDay } from '@offsite/domain/calendar';
import type { DeviationV1 } from '@offsite/contracts';

export type ContactRole = 'legal' | 'env-manager' | 'operator' | 'contact';
export type ChannelName = 'email' | 'sms' | 'wechat' | 'outbox';

/** One policy entry; the first entry whose `match` fits a deviation applies. */
export interface PolicyEntry {
  name: string;
  match: { rules?: string[]; severities?: string[]; classes?: string[]; falsification?: boolean };
  /** Enterprise contacts by role; ignored for suspected falsification (supervisors only). */
  enterpriseRoles: ContactRole[];
  districtOfficers: boolean;
  citySupervisors: boolean;
  channels: ChannelName[];
  repeat: { intervalMs: number; maxCount: number };
  /** Escalate to the district officers when the enterprise has not acknowledged within this time. */
  escalateAfterMs?: number;
  resolutionNotice: boolean;
  /** Urgent messages ignore quiet hours. */
  urgent: boolean;
}

export interface AlertPolicy {
  bureau: { zh: string; en: string };
  groupWaitMs: number;
  /** Asia/Shanghai wall-clock "HH:MM"; non-urgent sends inside are deferred to `end`. */
  quietHours?: { start: string; end: string };
  ackTtlMs: number;
  entries: PolicyEntry[];
  /** Rules a device-offline deviation on the same site inhibits. */
  inhibitedByOffline: string[];
}

/** The defaults of domain-rules.md: falsification → supervisors only; offline inhibits flatline/zero/capture. */
export const FALSIFICATION_RULES = ['flatline', 'clustered-below-limit', 'o2-near-ambient'];

export function defaultPolicy(): AlertPolicy {
  const hour = 3_600_000;
  return {
    bureau: { zh: '青澜市生态环境局', en: 'Qinglan Ecology and Environment Bureau' },
    groupWaitMs: 60_000,
    quietHours: { start: '22:00', end: '07:00' },
    ackTtlMs: 72 * hour,
    inhibitedByOffline: ['flatline', 'zero-while-running', 'low-capture'],
    entries: [
      {
        name: 'falsification',
        match: { falsification: true },
        enterpriseRoles: [],
        districtOfficers: false,
        citySupervisors: true,
        channels: ['email'],
        repeat: { intervalMs: 24 * hour, maxCount: 1 },
        resolutionNotice: false,
        urgent: false,
      },
      {
        name: 'urgent',
        match: { severities: ['critical', 'high'] },
        enterpriseRoles: ['env-manager', 'legal'],
        districtOfficers: false,
        citySupervisors: false,
        channels: ['sms', 'email'],
        repeat: { intervalMs: 2 * hour, maxCount: 3 },
        escalateAfterMs: 2 * hour,
        resolutionNotice: true,
        urgent: true,
      },
      {
        name: 'default',
        match: {},
        enterpriseRoles: ['env-manager'],
        districtOfficers: false,
        citySupervisors: false,
        channels: ['email'],
        repeat: { intervalMs: 24 * hour, maxCount: 2 },
        escalateAfterMs: 24 * hour,
        resolutionNotice: true,
        urgent: false,
      },
    ],
  };
}

export interface CaseContext {
  supervisionClass: string;
  /** A maintenance window the enterprise declared covers the site at the deviation's start. */
  inMaintenance: boolean;
  /** An open offline deviation exists for the same site. */
  siteOffline: boolean;
}

export type Decision =
  | { kind: 'suppress'; reason: 'maintenance-window' | 'inhibited-by-offline' | 'no-policy' }
  | { kind: 'notify'; entry: PolicyEntry; supervisorsOnly: boolean };

/** Which policy applies to a deviation, or why nobody is notified. Pure. */
export function decide(dev: DeviationV1, ctx: CaseContext, policy: AlertPolicy): Decision {
  const falsification = dev.suspectedFalsification || FALSIFICATION_RULES.includes(dev.rule);
  if (!falsification && ctx.inMaintenance) return { kind: 'suppress', reason: 'maintenance-window' };
  if (ctx.siteOffline && policy.inhibitedByOffline.includes(dev.rule))
    return { kind: 'suppress', reason: 'inhibited-by-offline' };
  const entry = policy.entries.find(
    (e) =>
      (e.match.falsification === undefined || e.match.falsification === falsification) &&
      (!e.match.rules || e.match.rules.includes(dev.rule)) &&
      (!e.match.severities || e.match.severities.includes(dev.severity)) &&
      (!e.match.classes || e.match.classes.includes(ctx.supervisionClass)),
  );
  if (!entry) return { kind: 'suppress', reason: 'no-policy' };
  // Suspected falsification never reaches the enterprise, whatever the entry says.
  return { kind: 'notify', entry, supervisorsOnly: falsification };
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/**
 * The earliest instant ≥ `at` outside quiet hours (Asia/Shanghai, UTC+8 without DST). Returns `at`
 * itself when it is outside, or when the message is urgent.
 */
export function afterQuietHours(at: Date, quiet: AlertPolicy['quietHours'], urgent: boolean): Date {
  if (!quiet || urgent) return at;
  const offset = SHANGHAI_OFFSET_MINUTES;
  const local = Math.floor(at.getTime() / 60_000) + offset; // minutes since epoch, local
  const minuteOfDay = shanghaiMinuteOfDay(at);
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  const inside =
    start <= end ? minuteOfDay >= start && minuteOfDay < end : minuteOfDay >= start || minuteOfDay < end;
  if (!inside) return at;
  const dayStart = local - minuteOfDay;
  const endLocal = minuteOfDay < end ? dayStart + end : dayStart + 1440 + end;
  return new Date((endLocal - offset) * 60_000);
}

/** Deterministic group: one message per enterprise and policy for deviations opening in one group-wait bucket. */
export function groupKeyFor(
  enterpriseId: string,
  policyName: string,
  receivedAt: Date,
  groupWaitMs: number,
): string {
  const bucket = Math.floor(receivedAt.getTime() / Math.max(1, groupWaitMs));
  return `${enterpriseId}.${policyName}.${bucket}`;
}

/**
 * The policy with its timers run `scale` times faster (the demo plays event time at 480×): group
 * wait, repeat interval and escalation delay are divided by `scale` (at least 1 ms). Quiet hours
 * (a time of day) and the acknowledgement link's lifetime (for people) stay on the wall clock.
 */
export function scalePolicyTimers(policy: AlertPolicy, scale: number): AlertPolicy {
  if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError(`time scale must be > 0, got ${scale}`);
  if (scale === 1) return policy;
  const s = (ms: number) => Math.max(1, Math.round(ms / scale));
  return {
    ...policy,
    groupWaitMs: s(policy.groupWaitMs),
    entries: policy.entries.map((e) => ({
      ...e,
      repeat: { ...e.repeat, intervalMs: s(e.repeat.intervalMs) },
      ...(e.escalateAfterMs !== undefined ? { escalateAfterMs: s(e.escalateAfterMs) } : {}),
    })),
  };
}
