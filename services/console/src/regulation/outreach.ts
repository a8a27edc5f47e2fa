// Outreach campaigns: select a group of enterprises (resumed work recently, district, industry),
// render @offsite/regulation's bilingual template per contact, queue one message per contact, deliver
// through an injected `send` under a BullMQ rate limiter, and count delivery outcomes.
import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { addDays, shanghaiDate } from '@offsite/domain/calendar';
import {
  checkTemplate,
  regulationError,
  renderTemplate,
  requireCapability,
  type AudienceFilter,
  type CampaignTemplate,
  type OutreachChannel,
  type OutreachMessage,
  type Scope,
} from '@offsite/regulation';
import type { Logger } from '@offsite/runtime';
import { closeWorkerAndQueue } from './queues.js';
import { query, transaction, type Db, type Queryable } from './db.js';

export interface AudienceMember {
  enterpriseId: string;
  enterpriseName: string;
  districtName: string;
  contactId: number;
  contactName: string;
  address: string;
  language: 'zh' | 'en';
}

export async function selectAudience(
  db: Queryable,
  scope: Scope,
  filter: AudienceFilter,
  channel: OutreachChannel,
  now: Date,
): Promise<AudienceMember[]> {
  const since =
    filter.resumedWithinDays == null ? null : addDays(shanghaiDate(now), -filter.resumedWithinDays);
  const rows = await query<{
    enterprise_id: string;
    enterprise_name: string;
    district_name: string;
    contact_id: string;
    contact_name: string;
    address: string;
    language: 'zh' | 'en';
  }>(
    db,
    'select audience',
    `select e.id as enterprise_id, e.name_zh as enterprise_name, d.name_zh as district_name, c.id as contact_id,
            c.name as contact_name, case when $5 = 'sms' then c.phone else c.email end as address, c.language
       from enterprises e join districts d on d.id = e.district_id join contacts c on c.enterprise_id = e.id
      where ($1::text is null or e.district_id = $1)
        and ($2::text is null or e.district_id = $2)
        and ($3::text is null or e.industry = $3)
        and ($4::date is null or exists (
              select 1 from enterprise_status_timeline t
               where t.enterprise_id = e.id and t.status = 'resuming' and t.resumption_date >= $4::date
                 and t.effective_from = (select max(effective_from) from enterprise_status_timeline t2 where t2.enterprise_id = e.id)))
        and (case when $5 = 'sms' then c.phone else c.email end) is not null
      order by e.id, c.id`,
    [scope.districtId, filter.districtId ?? null, filter.industry ?? null, since, channel],
  );
  return rows.map((r) => ({
    enterpriseId: r.enterprise_id,
    enterpriseName: r.enterprise_name,
    districtName: r.district_name,
    contactId: Number(r.contact_id),
    contactName: r.contact_name,
    address: r.address,
    language: r.language,
  }));
}

export async function createCampaign(
  db: Db,
  scope: Scope,
  input: { name: string; channel: OutreachChannel; template: CampaignTemplate; audience: AudienceFilter },
  now: Date,
): Promise<{ campaignId: number; messages: number }> {
  requireCapability(scope, 'runCampaign');
  checkTemplate(input.template);
  const members = await selectAudience(db, scope, input.audience, input.channel, now);
  return transaction(db, 'create campaign', async (c) => {
    const [row] = await query<{ id: string }>(
      c,
      'insert campaign',
      `insert into campaigns (name, channel, template, audience, district_id, created_by) values ($1, $2, $3, $4, $5, $6) returning id`,
      [
        input.name,
        input.channel,
        JSON.stringify(input.template),
        JSON.stringify(input.audience),
        scope.districtId,
        scope.userId,
      ],
    );
    const campaignId = Number(row?.id);
    for (const m of members) {
      const r = renderTemplate(input.template, m.language, {
        enterpriseName: m.enterpriseName,
        contactName: m.contactName,
        districtName: m.districtName,
      });
      await c.query(
        `insert into campaign_messages (campaign_id, enterprise_id, contact_id, address, language, subject, body)
         values ($1, $2, $3, $4, $5, $6, $7)`,
        [campaignId, m.enterpriseId, m.contactId, m.address, r.language, r.subject, r.body],
      );
    }
    return { campaignId, messages: members.length };
  });
}

export interface CampaignStats {
  campaignId: number;
  total: number;
  queued: number;
  sent: number;
  failed: number;
  attempts: number;
  firstSentAt: string | null;
  lastSentAt: string | null;
}

export async function campaignStats(db: Queryable, scope: Scope, campaignId: number): Promise<CampaignStats> {
  const [row] = await query<{
    found: boolean;
    total: number;
    queued: number;
    sent: number;
    failed: number;
    attempts: number;
    first: Date | null;
    last: Date | null;
  }>(
    db,
    'campaign stats',
    `select exists (select 1 from campaigns where id = $1 and ($2::text is null or district_id = $2)) as found,
            count(m.*)::int as total,
            count(*) filter (where m.status = 'queued')::int as queued,
            count(*) filter (where m.status = 'sent')::int as sent,
            count(*) filter (where m.status = 'failed')::int as failed,
            coalesce(sum(m.attempts), 0)::int as attempts, min(m.sent_at) as first, max(m.sent_at) as last
       from campaign_messages m join enterprises e on e.id = m.enterprise_id
      where m.campaign_id = $1 and ($2::text is null or e.district_id = $2)`,
    [campaignId, scope.districtId],
  );
  if (!row?.found) throw regulationError('NOT_FOUND', `campaign ${campaignId} not found`);
  return {
    campaignId,
    total: row.total,
    queued: row.queued,
    sent: row.sent,
    failed: row.failed,
    attempts: row.attempts,
    firstSentAt: row.first?.toISOString() ?? null,
    lastSentAt: row.last?.toISOString() ?? null,
  };
}

/** Hands the message on for delivery. Throw to fail the attempt (retried with backoff). */
export type OutreachSend = (message: OutreachMessage) => Promise<{ providerRef?: string }>;

export interface OutreachDispatcherOptions {
  connection: ConnectionOptions;
  queueName: string;
  prefix?: string;
  db: Queryable;
  send: OutreachSend;
  /** At most `max` sends per `durationMs` across all workers of the queue (BullMQ rate limiter). */
  rate: { max: number; durationMs: number };
  attempts?: number;
  logger: Logger;
}

export interface OutreachDispatcher {
  /** Queues every still-queued message of a campaign (idempotent: job id per message). */
  enqueueCampaign(campaignId: number): Promise<number>;
  startWorker(): Worker;
  close(timeoutMs?: number): Promise<void>;
}

export function createOutreachDispatcher(o: OutreachDispatcherOptions): OutreachDispatcher {
  const log = o.logger.child({ component: 'regulation.outreach', queue: o.queueName });
  const queue = new Queue(o.queueName, { connection: o.connection, prefix: o.prefix });
  let worker: Worker | null = null;
  const attempts = o.attempts ?? 3;

  async function process(job: Job<{ messageId: number }>): Promise<void> {
    const [m] = await query<{
      id: string;
      campaign_id: string;
      channel: OutreachChannel;
      address: string;
      language: 'zh' | 'en';
      subject: string | null;
      body: string;
      status: string;
      contact_id: string;
    }>(
      o.db,
      'load campaign message',
      `select m.id, m.campaign_id, c.channel, m.address, m.language, m.subject, m.body, m.status,
              m.contact_id::text as contact_id
         from campaign_messages m join campaigns c on c.id = m.campaign_id where m.id = $1`,
      [job.data.messageId],
    );
    if (!m || m.status !== 'queued') return;
    await query(o.db, 'count attempt', `update campaign_messages set attempts = attempts + 1 where id = $1`, [
      m.id,
    ]);
    try {
      const res = await o.send({
        channel: m.channel,
        to: m.address,
        language: m.language,
        subject: m.subject,
        body: m.body,
        ref: `campaign-${m.campaign_id}-msg-${m.id}`,
        contactId: m.contact_id,
      });
      await query(
        o.db,
        'mark sent',
        `update campaign_messages set status = 'sent', sent_at = now(), provider_ref = $2, last_error = null where id = $1`,
        [m.id, res.providerRef ?? null],
      );
    } catch (err) {
      const final = job.attemptsMade + 1 >= attempts;
      await query(
        o.db,
        'mark failure',
        `update campaign_messages set last_error = $2, status = case when $3 then 'failed' else status end where id = $1`,
        [m.id, err instanceof Error ? err.message.slice(0, 500) : String(err), final],
      );
      throw err;
    }
  }

  return {
    async enqueueCampaign(campaignId) {
      const ids = await query<{ id: string }>(
        o.db,
        'list queued messages',
        `select id from campaign_messages where campaign_id = $1 and status = 'queued' order by id`,
        [campaignId],
      );
      await queue.addBulk(
        ids.map((r) => ({
          name: 'outreach-message',
          data: { messageId: Number(r.id) },
          opts: {
            jobId: `campaign-${campaignId}-msg-${r.id}`,
            attempts,
            backoff: { type: 'exponential', delay: 1_000 },
            removeOnComplete: { count: 10_000 },
            removeOnFail: { count: 10_000 },
          },
        })),
      );
      log.info({ campaignId, messages: ids.length }, 'campaign queued');
      return ids.length;
    },
    startWorker() {
      worker ??= new Worker(o.queueName, process, {
        connection: o.connection,
        prefix: o.prefix,
        concurrency: 4,
        limiter: { max: o.rate.max, duration: o.rate.durationMs },
      });
      worker.on('failed', (job, err) =>
        log.warn({ jobId: job?.id, err: err.message }, 'outreach send failed'),
      );
      return worker;
    },
    async close(timeoutMs = 10_000) {
      await closeWorkerAndQueue(worker, queue, timeoutMs, 'close outreach dispatcher');
    },
  };
}
