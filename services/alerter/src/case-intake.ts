// Case intake: one deviation.v1 event → its case upserted, then planned, updated or resolved. Every
// step is idempotent (deterministic job ids, Postgres send claims), so a redelivery finishes what a
// crashed run left undone and never doubles a message.
import type { DeviationV1 } from '@offsite/contracts';
import { createBatcher } from './batcher.js';
import { entryNamed, type Planning } from './planning.js';
import type { AlertPolicy } from './policy.js';
import * as repo from './repo.js';

export type HandleOutcome = 'ignored' | 'replayed' | 'suppressed' | 'planned' | 'updated' | 'resolved';

export interface CaseIntakeDeps {
  db: repo.Db;
  policy: AlertPolicy;
  planning: Pick<Planning, 'plan' | 'planFirstRound' | 'planResolution'>;
  counters?: { deviation?(outcome: HandleOutcome): void };
}

export function createCaseIntake(deps: CaseIntakeDeps) {
  const { db, planning } = deps;
  // The case upserts of the deviations handled at the same time share one statement; each caller
  // awaits its own row (a failed batch fails each caller: intake does not commit the offset).
  const upserts = createBatcher((evs: DeviationV1[]) => repo.upsertCases(db, evs), {
    maxSize: 200,
    key: (ev) => ev.id,
  });

  async function handle(ev: DeviationV1): Promise<HandleOutcome> {
    const upserted = await upserts.add(ev);
    if (!upserted) {
      // Same or older revision: a redelivery or a replay. A redelivery of the stored revision may
      // follow a crash between the upsert and the enqueue, so finish what that run left undone.
      const stored = await repo.getCase(db, ev.id);
      if (!stored || stored.revision !== ev.revision || stored.suppressed_reason) return 'ignored';
      if (stored.state === 'resolved') {
        if (stored.group_key) await planning.planResolution(stored.group_key);
        return 'replayed';
      }
      if (stored.group_key) {
        if (!(await repo.hasAnyNotification(db, stored.group_key)))
          await planning.planFirstRound(
            stored.group_key,
            entryNamed(deps.policy, stored.policy)?.urgent ?? false,
          );
        return 'replayed';
      }
      return (await planning.plan(ev)) === 'planned' ? 'replayed' : 'ignored';
    }
    const fresh = upserted.row;
    if (ev.state === 'resolved') {
      if (fresh.group_key) await planning.planResolution(fresh.group_key);
      return 'resolved';
    }
    if (fresh.group_key) return 'updated';
    return planning.plan(ev, upserted.ctx);
  }

  return {
    async handleDeviation(ev: DeviationV1): Promise<HandleOutcome> {
      const outcome = await handle(ev);
      deps.counters?.deviation?.(outcome);
      return outcome;
    },
  };
}
