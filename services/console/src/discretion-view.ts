// What the console shows of a case's discretion records (discretion.ts writes them): the records with
// their makers and approvers, the computed first-violation check and who may approve.
import type { Queryable } from '@offsite/store';
import { caseInScope, eligibleApprovers, firstViolationCheck, type DiscretionPolicy } from './discretion.js';
import { canReview, type Principal } from './principal.js';

const PEOPLE = `du.username as "decidedBy", du.display_name as "decidedByName", au.username as "approver",
  au.display_name as "approverName", x.approver_id::text as "approverId", x.status, x.approval_note as "approvalNote",
  x.approved_at as "approvedAt", x.created_at as "createdAt"`;
const JOIN_PEOPLE = `join console_users du on du.id = x.decided_by join console_users au on au.id = x.approver_id`;

/** Everything recorded on the case, the computed first-violation check and who may approve. */
export async function caseDiscretion(db: Queryable, p: Principal, caseId: string, policy: DiscretionPolicy) {
  const c = await caseInScope(db, p, caseId);
  const decisions = await db.query(
    `select x.id::text as id, x.basis_code as "basisCode", b.kind, b.label_zh as "basisZh", b.label_en as "basisEn",
            json_build_object('firstViolation', x.first_violation, 'minor', x.minor, 'correctedInTime', x.corrected_in_time,
                              'noHarm', x.no_harm, 'forceMajeure', x.force_majeure) as criteria,
            x.earlier_confirmed as "earlierConfirmed", x.period_months as "periodMonths", x.reason, ${PEOPLE}
       from discretion_decisions x join discretion_legal_bases b on b.code = x.basis_code ${JOIN_PEOPLE}
      where x.deviation_id = $1 order by x.created_at, x.id`,
    [caseId],
  );
  const extensions = await db.query(
    `select x.id::text as id, to_char(x.previous_due, 'YYYY-MM-DD') as "previousDue",
            to_char(x.new_due, 'YYYY-MM-DD') as "newDue", x.reason, ${PEOPLE}
       from rectification_extensions x ${JOIN_PEOPLE} where x.deviation_id = $1 order by x.created_at, x.id`,
    [caseId],
  );
  const measures = await db.query(
    `select x.id::text as id, x.kind, x.reason, to_char(x.starts_on, 'YYYY-MM-DD') as "startsOn",
            to_char(x.review_on, 'YYYY-MM-DD') as "reviewOn", ${PEOPLE}
       from coercive_measures x ${JOIN_PEOPLE} where x.deviation_id = $1 order by x.created_at, x.id`,
    [caseId],
  );
  const iso = (rows: Record<string, unknown>[]) =>
    rows.map((r) => ({
      ...r,
      approvedAt: r.approvedAt instanceof Date ? r.approvedAt.toISOString() : null,
      createdAt: (r.createdAt as Date).toISOString(),
    }));
  return {
    caseId,
    rectificationDue: c.rectificationDue,
    policy,
    firstViolation: await firstViolationCheck(db, c, policy.firstViolationMonths),
    decisions: iso(decisions.rows),
    extensions: iso(extensions.rows),
    measures: iso(measures.rows),
    approvers: canReview(p) ? await eligibleApprovers(db, c.districtId, policy) : [],
  };
}
