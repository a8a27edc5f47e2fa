// The alerter's BullMQ job catalogue: every queue name, job name, payload type, job id and retry
// policy in one place. A job id is deterministic, so adding the same job again is a no-op in BullMQ:
// that is what makes intake, planning and failover safe to repeat.
import type { JobsOptions } from 'bullmq';
import type { MessageRequestV1 } from '@offsite/contracts';
import type { OutgoingNotification, ReminderKind } from '@offsite/notify';
import type { ChannelName } from './policy.js';

/** The plan queue: one job per group round, escalation and resolution notice. */
export const PLAN_QUEUE = 'plan';

/** One send queue per provider, so each provider has its own rate limit. */
export const sendQueueName = (provider: string): string => `send-${provider}`;
export const providerOfSendQueue = (queueName: string): string => queueName.replace(/^send-/, '');

/** Plan jobs by name and what each carries. */
export interface PlanJobs {
  /** Round `round` of a group's reminders (and, after round 1, the next round and the escalation). */
  round: { groupKey: string; round?: number };
  /** The district officers' escalation of an unacknowledged group. */
  escalate: { groupKey: string };
  /** The resolution notice, once every case of the group is resolved. */
  resolved: { groupKey: string };
}
export type PlanJobName = keyof PlanJobs;
export type PlanJobData = PlanJobs[PlanJobName];

/** A send job is named after its message kind. */
export type SendJobName = ReminderKind | 'supervisor-alert' | MessageRequestV1['kind'];

export interface SendJobData {
  /** Position in the channel's provider chain (0 = primary); a failover hands the job to the next. */
  hop?: number;
  groupKey: string;
  deviationIds: string[];
  kind: SendJobName;
  round: number;
  channel: ChannelName;
  recipient: {
    kind: 'enterprise-contact' | 'supervisor' | MessageRequestV1['recipient']['kind'];
    id: string;
  };
  message: OutgoingNotification;
}

export interface JobSpec<N extends string, D> {
  name: N;
  data: D;
  opts: { jobId: string } & JobsOptions;
}
export type PlanJobSpec = { [N in PlanJobName]: JobSpec<N, PlanJobs[N]> }[PlanJobName];
export type SendJobSpec = JobSpec<SendJobName, SendJobData>;

/**
 * Retry policy of plan jobs (rounds, escalations, resolution notices). Planning only reads Postgres and
 * enqueues sends with deterministic ids, so a retry never doubles a message; giving up would lose the
 * reminder. 12 attempts with exponential backoff from 0.5 s keep retrying for ~8.5-17 minutes (jitter),
 * longer than a Postgres or Redis restart.
 */
export const PLAN_RETRY = {
  attempts: 12,
  backoff: { type: 'exponential', delay: 500, jitter: 0.5 },
} as const;

const planOpts = (jobId: string, delay?: number): PlanJobSpec['opts'] => ({
  jobId,
  ...(delay !== undefined ? { delay } : {}),
  removeOnComplete: 1000,
  ...PLAN_RETRY,
});

/** The plan jobs, each with its deterministic id. */
export const planJobs = {
  round: (groupKey: string, round: number, delay: number): PlanJobSpec => ({
    name: 'round',
    data: { groupKey, round },
    opts: planOpts(`${groupKey}.r${round}`, delay),
  }),
  escalate: (groupKey: string, delay: number): PlanJobSpec => ({
    name: 'escalate',
    data: { groupKey },
    opts: planOpts(`${groupKey}.esc`, delay),
  }),
  resolved: (groupKey: string): PlanJobSpec => ({
    name: 'resolved',
    data: { groupKey },
    opts: planOpts(`${groupKey}.resolved`),
  }),
};

/** Characters BullMQ job ids and notification ids may carry; anything else becomes `_`. */
export const idSafe = (s: string): string => s.replace(/[^A-Za-z0-9._-]/g, '_');

/** Id of one message of a group: group, recipient, channel and the round's suffix (`r1`, `esc`, `resolved`). */
export const groupMessageId = (
  groupKey: string,
  recipient: { kind: 'enterprise-contact' | 'supervisor'; id: string },
  channel: ChannelName,
  suffix: string,
): string =>
  idSafe(`${groupKey}.${recipient.kind === 'supervisor' ? 's' : 'c'}${recipient.id}.${channel}.${suffix}`);

/** Id of the job that hands a message to provider number `hop` of its chain. */
export const failoverJobId = (messageId: string, hop: number): string => `${messageId}.h${hop}`;

export interface SendRetry {
  attempts?: number;
  backoffMs?: number;
}

/** Options of every send job: retried with exponential backoff, the last 10,000 kept either way. */
export const sendJobOptions = (retry: SendRetry | undefined) => ({
  attempts: retry?.attempts ?? 6,
  backoff: { type: 'exponential', delay: retry?.backoffMs ?? 1000, jitter: 0.5 },
  removeOnComplete: 10_000,
  removeOnFail: 10_000,
});
