// Review decisions leave the console as `review.decision.v1` events through an outbox: the action's
// transaction adds a row to `review_decision_outbox`; the relay publishes pending rows in sequence
// order and stamps them only after Kafka acknowledged them. A crash in between republishes the same
// event (same id and sequence); consumers keep the highest sequence per case.
import { kafkaMessage, kafkaTopics, type ReviewDecisionV1 } from '@offsite/contracts';
import type { Logger } from '@offsite/runtime';
import { transaction, type Queryable } from '@offsite/store';
import type pg from 'pg';
import type { ReviewAction, ReviewState } from './review-model.js';

type DecisionAction = ReviewDecisionV1['action'];
const DECISION_ACTIONS: ReadonlySet<string> = new Set<DecisionAction>([
  'acknowledge',
  'request-rectification',
  'confirm',
  'dismiss',
  'escalate',
  'close',
]);

export interface DecisionInput {
  caseId: string;
  enterpriseId: string;
  suspectedFalsification: boolean;
  action: ReviewAction;
  reviewState: ReviewState;
}

/** Adds the decision to the outbox (inside the action's transaction); assign and comment are not decisions. */
export async function recordReviewDecision(db: Queryable, d: DecisionInput): Promise<boolean> {
  if (!DECISION_ACTIONS.has(d.action.action)) return false;
  await db.query(
    `insert into review_decision_outbox (deviation_id, enterprise_id, action, review_state, decision,
                                         suspected_falsification)
     values ($1, $2, $3, $4, $5, $6)`,
    [
      d.caseId,
      d.enterpriseId,
      d.action.action,
      d.reviewState,
      d.action.action === 'confirm' ? d.action.decision : null,
      d.suspectedFalsification,
    ],
  );
  return true;
}

interface OutboxRow {
  sequence: string;
  deviation_id: string;
  enterprise_id: string;
  action: DecisionAction;
  review_state: ReviewDecisionV1['reviewState'];
  decision: ReviewDecisionV1['decision'] | null;
  suspected_falsification: boolean;
  decided_at: Date;
}

export function decisionEvent(r: OutboxRow): ReviewDecisionV1 {
  return {
    schema: 'review.decision.v1',
    id: `${r.deviation_id}:${r.sequence}`,
    deviationId: r.deviation_id,
    sequence: Number(r.sequence),
    enterpriseId: r.enterprise_id,
    action: r.action,
    reviewState: r.review_state,
    ...(r.decision ? { decision: r.decision } : {}),
    suspectedFalsification: r.suspected_falsification,
    decidedAt: r.decided_at.toISOString(),
  };
}

export interface RelayOptions {
  pool: pg.Pool;
  /** Resolves once Kafka acknowledged every message (acks = all). */
  send(
    topic: string,
    messages: { key: string; value: string; headers: Record<string, string> }[],
  ): Promise<unknown>;
  topic?: string;
  logger: Logger;
  /** Poll for rows a failed or interrupted publish left behind. */
  intervalMs?: number;
  batchSize?: number;
  onPublished?(n: number): void;
}

export interface DecisionRelay {
  start(): void;
  /** Publish what is pending now (after an action committed); resolves when this round is done. */
  kick(): Promise<void>;
  stop(): Promise<void>;
}

export function createReviewDecisionRelay(opts: RelayOptions): DecisionRelay {
  const log = opts.logger.child({ component: 'review-decisions' });
  const topic = opts.topic ?? kafkaTopics.reviewDecision.name;
  const batchSize = opts.batchSize ?? 500;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  /** One transaction per batch: rows locked (other console instances skip them), sent, stamped. */
  async function publishBatch(): Promise<number> {
    // A lost connection while Kafka is awaited fails the batch (retried) instead of the process.
    return transaction(opts.pool, async (client) => {
      const rows = await client.query<OutboxRow>(
        `select sequence::text as sequence, deviation_id, enterprise_id, action, review_state, decision,
                suspected_falsification, decided_at
           from review_decision_outbox where published_at is null
          order by sequence limit $1 for update skip locked`,
        [batchSize],
      );
      if (rows.rows.length > 0) {
        await opts.send(
          topic,
          rows.rows.map((r) => {
            const e = decisionEvent(r);
            return kafkaMessage(kafkaTopics.reviewDecision, e);
          }),
        );
        await client.query(
          'update review_decision_outbox set published_at = now() where sequence = any($1::bigint[])',
          [rows.rows.map((r) => r.sequence)],
        );
      }
      return rows.rows.length;
    });
  }

  async function drain(): Promise<void> {
    do {
      again = false;
      let n: number;
      do {
        n = await publishBatch();
        if (n > 0) opts.onPublished?.(n);
      } while (n === batchSize && !stopped);
    } while (again && !stopped);
  }

  function kick(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = drain()
      .catch((err: unknown) =>
        log.warn({ err }, 'publishing review decisions failed; retried on the next round'),
      )
      .finally(() => (running = undefined));
    return running;
  }

  return {
    start() {
      stopped = false;
      void kick();
      timer = setInterval(() => void kick(), opts.intervalMs ?? 5_000);
    },
    kick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
