// Complaints (信访举报, domain-rules §6): deadlines by urgency and the status flow. Pure.
import { regulationError } from './errors.js';

export type ComplaintChannel = 'hotline' | 'wechat' | 'web';
export type ComplaintUrgency = 'normal' | 'urgent';
export type ComplaintStatus =
  'received' | 'acknowledged' | 'investigating' | 'resolved' | 'closed' | 'rejected';

export interface ComplaintDeadlineConfig {
  /** Hours to acknowledge and to resolve, per urgency. Defaults: normal 24 h / 7 days (fast track), urgent 2 h / 3 days. */
  deadlines: Record<ComplaintUrgency, { acknowledgeHours: number; resolveHours: number }>;
  /** Reminders fire this many hours before each deadline (and once more at the deadline). */
  reminderLeadHours: number;
}

export const defaultComplaintConfig: ComplaintDeadlineConfig = Object.freeze({
  deadlines: {
    normal: { acknowledgeHours: 24, resolveHours: 7 * 24 },
    urgent: { acknowledgeHours: 2, resolveHours: 3 * 24 },
  },
  reminderLeadHours: 2,
});

export function complaintDeadlines(
  receivedAt: Date,
  urgency: ComplaintUrgency,
  config: ComplaintDeadlineConfig = defaultComplaintConfig,
): { ackDueAt: Date; resolveDueAt: Date } {
  const d = config.deadlines[urgency];
  return {
    ackDueAt: new Date(receivedAt.getTime() + d.acknowledgeHours * 3_600_000),
    resolveDueAt: new Date(receivedAt.getTime() + d.resolveHours * 3_600_000),
  };
}

/** Allowed transitions; `rejected` is for complaints that are not environmental or are duplicates. */
export const COMPLAINT_TRANSITIONS: Readonly<Record<ComplaintStatus, readonly ComplaintStatus[]>> = {
  received: ['acknowledged', 'rejected'],
  acknowledged: ['investigating', 'resolved', 'rejected'],
  investigating: ['resolved'],
  resolved: ['closed', 'investigating'],
  closed: [],
  rejected: [],
};

export function assertTransition(from: ComplaintStatus, to: ComplaintStatus): void {
  if (!COMPLAINT_TRANSITIONS[from].includes(to)) {
    throw regulationError('INVALID_TRANSITION', `a complaint cannot go from ${from} to ${to}`, {
      details: { from, to, allowed: COMPLAINT_TRANSITIONS[from] },
    });
  }
}

export type ReminderStage = 'acknowledge' | 'resolve';

/** When reminders for a stage fire: `lead` hours before the deadline (if still ahead) and at the deadline. */
export function reminderTimes(
  dueAt: Date,
  now: Date,
  config: ComplaintDeadlineConfig = defaultComplaintConfig,
): Date[] {
  const lead = new Date(dueAt.getTime() - config.reminderLeadHours * 3_600_000);
  return [lead, dueAt].filter((t) => t.getTime() > now.getTime());
}

/** Whether a reminder of a stage is still due, given the complaint's status now. */
export function reminderStillDue(stage: ReminderStage, status: ComplaintStatus): boolean {
  if (stage === 'acknowledge') return status === 'received';
  return status === 'received' || status === 'acknowledged' || status === 'investigating';
}
