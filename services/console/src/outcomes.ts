// What a review action means for the regulatory side: report figures (the `regulatory_events`
// ledger of @offsite/regulation) and positive-list removal proposals. Runs inside the action's
// transaction, so the action, its audit entry and these records commit or roll back together.
import { endOfShanghaiDay } from '@offsite/domain/calendar';
import { proposeRemoval, recordOutcome, type Queryable, type RemovalTrigger } from './regulation/index.js';
import type { ReviewAction, ReviewState } from './review-model.js';
import type { Principal } from './principal.js';
import { regulationScope } from './regulation-scope.js';

export interface ReviewOutcomeInput {
  caseId: string;
  enterpriseId: string;
  rule: string;
  severity: string;
  suspectedFalsification: boolean;
  from: ReviewState;
  action: ReviewAction;
  /** Deadline already set on the case (YYYY-MM-DD), for closing a rectification. */
  rectificationDue: string | null;
  now: Date;
}

/**
 * Serious violation (proposes removal from the positive list): a referral to the judicial
 * authorities, or a penalty on a high or critical deviation. A confirmed suspected-falsification
 * case proposes removal as falsification whatever the decision.
 */
export function removalTrigger(i: {
  suspectedFalsification: boolean;
  severity: string;
  decision: 'no-penalty' | 'penalty' | 'judicial-referral';
}): RemovalTrigger | null {
  if (i.suspectedFalsification) return 'falsification';
  if (i.decision === 'judicial-referral') return 'serious-violation';
  if (i.decision === 'penalty' && (i.severity === 'high' || i.severity === 'critical'))
    return 'serious-violation';
  return null;
}

export async function recordReviewOutcomes(
  db: Queryable,
  p: Principal,
  i: ReviewOutcomeInput,
): Promise<{ removalProposalId: number | null }> {
  const a = i.action;
  if (a.action === 'assign' || a.action === 'comment') return { removalProposalId: null };
  const scope = regulationScope(p);
  const base = { sourceRef: i.caseId, enterpriseId: i.enterpriseId, occurredAt: i.now };
  // The first review decision on a case is one off-site check.
  if (i.from === 'new') await recordOutcome(db, scope, { ...base, kind: 'offsite-check' });
  switch (a.action) {
    case 'request-rectification':
      await recordOutcome(db, scope, {
        ...base,
        kind: 'rectification',
        dueAt: endOfShanghaiDay(a.deadline),
        doneAt: null,
      });
      return { removalProposalId: null };
    case 'close':
      // Closing a case under rectification marks the rectification done (in time or late by its deadline).
      if (i.from === 'rectification-requested' && i.rectificationDue)
        await recordOutcome(db, scope, {
          ...base,
          kind: 'rectification',
          dueAt: endOfShanghaiDay(i.rectificationDue),
          doneAt: i.now,
        });
      return { removalProposalId: null };
    case 'dismiss':
      await recordOutcome(db, scope, { ...base, kind: 'deviation', rule: i.rule, outcome: 'dismissed' });
      return { removalProposalId: null };
    case 'confirm': {
      await recordOutcome(db, scope, { ...base, kind: 'deviation', rule: i.rule, outcome: 'confirmed' });
      if (a.decision === 'no-penalty') await recordOutcome(db, scope, { ...base, kind: 'penalty-waived' });
      if (a.decision === 'judicial-referral')
        await recordOutcome(db, scope, { ...base, kind: 'case-referred' });
      const trigger = removalTrigger({
        suspectedFalsification: i.suspectedFalsification,
        severity: i.severity,
        decision: a.decision,
      });
      if (!trigger) return { removalProposalId: null };
      const proposal = await proposeRemoval(
        db,
        scope,
        {
          enterpriseId: i.enterpriseId,
          trigger,
          sourceRef: `case:${i.caseId}`,
          ...(a.note ? { note: a.note } : {}),
        },
        i.now,
      );
      return { removalProposalId: proposal?.id ?? null };
    }
    default:
      return { removalProposalId: null };
  }
}
