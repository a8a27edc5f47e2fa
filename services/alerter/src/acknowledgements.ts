// Acknowledgements by the enterprise: the signed link of a reminder opens a page showing the group's
// deviations; the enterprise states the cause (and when it expects the fix), which stops the repeats
// and the escalation of that group.
import { verifyAckToken } from './ack.js';
import * as repo from './repo.js';

export interface AcknowledgementDeps {
  db: repo.Db;
  secret: string;
  now: () => Date;
}

export type AckView =
  | { ok: false; reason: string }
  | {
      ok: true;
      groupKey: string;
      expiresAt: Date;
      enterprise: { zh: string; en?: string };
      items: {
        rule: string;
        facility: { zh: string; en?: string };
        openedAt: Date;
        resolvedAt?: Date;
        summary: string;
      }[];
      acknowledged: boolean;
    };

export function createAcknowledgements(deps: AcknowledgementDeps) {
  const { db } = deps;

  /** Records an acknowledgement; a function the console can mount, and the alerter's own page uses. */
  async function acknowledge(input: {
    token: string;
    cause: string;
    expectedFixAt?: string;
  }): Promise<{ ok: true; groupKey: string } | { ok: false; reason: string }> {
    const v = verifyAckToken(input.token, deps.secret, deps.now());
    if (!v.ok) return v;
    const cause = input.cause.trim();
    if (!cause) return { ok: false, reason: 'cause-required' };
    const fix = input.expectedFixAt ? new Date(input.expectedFixAt) : null;
    if (fix && Number.isNaN(fix.getTime())) return { ok: false, reason: 'bad-fix-time' };
    await repo.insertAck(db, v.claims.g, v.claims.r, cause.slice(0, 2000), fix?.toISOString() ?? null);
    return { ok: true, groupKey: v.claims.g };
  }

  /** What the acknowledgement page shows for a token: the enterprise and the deviations of the group. */
  async function ackView(token: string): Promise<AckView> {
    const v = verifyAckToken(token, deps.secret, deps.now());
    if (!v.ok) return v;
    const ctx = await repo.groupContext(db, v.claims.g);
    const { cases, ent, sites: facilities } = ctx;
    if (cases.length === 0) return { ok: false, reason: 'unknown-group' };
    return {
      ok: true,
      groupKey: v.claims.g,
      expiresAt: new Date(v.claims.exp),
      enterprise: {
        zh: ent?.name_zh ?? cases[0]!.enterprise_id,
        ...(ent?.name_en ? { en: ent.name_en } : {}),
      },
      items: cases.map((c) => ({
        rule: c.rule,
        facility: facilities.get(c.site_id) ?? { zh: c.site_id },
        openedAt: new Date(c.opened_at),
        ...(c.resolved_at ? { resolvedAt: new Date(c.resolved_at) } : {}),
        summary: c.event.evidence.summary,
      })),
      acknowledged: ctx.acked,
    };
  }

  return { acknowledge, ackView };
}
