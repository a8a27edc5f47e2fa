// Shared by the alerter's process-level integration tests (kill -9, Redis restarts): the SMTP
// sink's inbox read back (Message-IDs), deviations, a fresh schema with the example registry, and the set of
// Message-IDs a run must produce. Test code only; not exported by the package.
import path from 'node:path';
import type pg from 'pg';
import type { DeviationV1 } from '@offsite/contracts';
import { importRegistry, runMigrations } from '@offsite/store';
import {
  managerEmailPolicy,
  createTestSchema,
  readSinkHeads,
  silentLogger,
  type SinkHead,
  type TestSchema,
} from '@offsite/testing';
import { ALERTER_PG_SETTINGS } from '../src/repo.js';

/** Mails in the sink's directory whose Message-ID is in `midDomain` (envelope and Message-ID only). */
export async function mails(dir: string, midDomain: string): Promise<SinkHead[]> {
  return (await readSinkHeads(dir)).filter((m) => m.messageId?.endsWith(`@${midDomain}>`));
}

/** The alerter's topics under a test prefix. */
export const topicNames = (prefix: string) => ({
  deviation: `${prefix}deviation.v1`,
  notification: `${prefix}notification.v1`,
  dlq: `${prefix}telemetry.dlq.v1`,
  messageRequest: `${prefix}message.request.v1`,
});

export const deviation = (
  runId: string,
  enterpriseId: string,
  n: number,
  over: Partial<DeviationV1> = {},
): DeviationV1 => ({
  schema: 'deviation.v1',
  id: `dev-${runId}-${enterpriseId}-${n}`,
  rule: n % 2 === 0 ? 'treatment-idle' : 'treatment-early-stop',
  state: 'opened',
  revision: 1,
  severity: 'medium',
  enterpriseId,
  siteId: `site-${enterpriseId}`,
  windowStart: '2026-03-01T02:00:00Z',
  openedAt: '2026-03-01T02:30:00Z',
  suspectedFalsification: false,
  inResumptionWindow: false,
  evidence: { summary: 'idle', values: [], params: {} },
  emittedAt: '2026-03-01T02:31:00Z',
  ...over,
});

/**
 * A new schema with the alerter's session settings, migrated, with the example registry and contact e-mails in
 * `domain`.
 */
export async function freshSchema(domain: string, max = 3): Promise<TestSchema> {
  const root = path.resolve(import.meta.dirname, '../../..');
  const db = await createTestSchema({ settings: ALERTER_PG_SETTINGS, max });
  await runMigrations(db.pool, { logger: silentLogger });
  await importRegistry(db.pool, { path: path.join(root, 'registry/example.yaml') }, { logger: silentLogger });
  await db.pool.query(`update contacts set email = 'c' || id || '@${domain}' where email is not null`);
  return db;
}

/** A policy file body: one entry, e-mail to environment managers, `rounds` rounds 1.5 s apart. */
export const burstPolicy = (rounds: number) => managerEmailPolicy({ rounds, interval: '1500ms' });

/** Message-IDs expected: one per group, environment manager with an e-mail, and round. */
export async function expectedMessageIds(
  pool: pg.Pool,
  midDomain: string,
  rounds: number,
): Promise<Set<string>> {
  const groups = (
    await pool.query<{ group_key: string; enterprise_id: string }>(
      `select distinct group_key, enterprise_id from alert_cases where group_key is not null`,
    )
  ).rows;
  const contacts = (
    await pool.query<{ id: string; enterprise_id: string }>(
      `select id::text, enterprise_id from contacts where role = 'env-manager' and email is not null`,
    )
  ).rows;
  const expected = new Set<string>();
  for (const g of groups)
    for (const c of contacts.filter((x) => x.enterprise_id === g.enterprise_id))
      for (let round = 1; round <= rounds; round++)
        expected.add(
          `<${`${g.group_key}.c${c.id}.email.r${round}`.replace(/[^A-Za-z0-9._-]/g, '_')}@${midDomain}>`,
        );
  return expected;
}
