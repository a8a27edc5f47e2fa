import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import type { StabilityMetrics } from '@offsite/domain';
import type { EnterpriseStability } from '@offsite/regulation';
import { importRegistry, runMigrations } from '@offsite/store';
import { createTestSchema, requireEnv, silentLogger } from '@offsite/testing';

export const registryPath = fileURLToPath(new URL('../../../registry/example.yaml', import.meta.url));

export interface Harness {
  schema: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

/** A fresh `test_<random>` schema with every store migration (040 included) and the example registry. */
export async function createHarness(): Promise<Harness> {
  const db = await createTestSchema();
  await runMigrations(db.pool, { logger: silentLogger });
  await importRegistry(db.pool, { path: registryPath }, { logger: silentLogger, prune: false });
  return db;
}

export function redisConnection(): { host: string; port: number } {
  const u = new URL(requireEnv('OFFSITE_REDIS_URL'));
  return { host: u.hostname, port: Number(u.port || 6379) };
}

export const testPrefix = (): string => `test-reg-${randomBytes(4).toString('hex')}`;

/** The analyzer's metrics of a stably compliant enterprise over a 90-day window (eligible when the registry agrees). */
export const goodMetrics: StabilityMetrics = {
  expected: 2160,
  received: 2100,
  valid: 2080,
  transmissionRate: 0.972,
  validityRate: 0.99,
  effectiveTransmissionRate: 0.963,
  compliantValidHours: 2080,
  judgedValidHours: 2080,
  complianceRate: 1,
  exceedanceWindows: 0,
  openSuspectedFalsifications: 0,
  confirmedFalsifications: 0,
};

/** Every enterprise stably compliant, its data received ten minutes before each call (the real clock). */
export async function goodStability(ids: readonly string[]): Promise<Map<string, EnterpriseStability>> {
  const now = Date.now();
  return new Map(
    ids.map((id): [string, EnterpriseStability] => [
      id,
      {
        enterpriseId: id,
        windowFrom: new Date(now - 90 * 86_400_000),
        windowTo: new Date(now),
        metrics: goodMetrics,
        lastReceivedAt: new Date(now - 600_000),
      },
    ]),
  );
}
