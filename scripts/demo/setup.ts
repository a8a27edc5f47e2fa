/**
 * Demo setup (run by scripts/demo.sh with `node --conditions=offsite-source --import tsx`): migrates Postgres, imports the demo
 * registry and creates this run's Kafka topics (and deletes the topics of earlier demo runs). The
 * console's demo users and their passwords are seeded by `npm run seed -w @offsite/console`.
 * Prints one JSON line with what it did.
 *
 * Usage: setup.ts <registry file> <topic prefix>
 * Environment: .offsite/env (OFFSITE_PG_URL, OFFSITE_KAFKA_BROKERS).
 */
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { kafkaTopics, upstreamFeedTopics } from '@offsite/contracts';
import { createKafkaClient, ensureTopics } from '@offsite/kafka';
import { createLogger } from '@offsite/runtime';
import { importRegistry, runMigrations } from '@offsite/store';

const [registryPath, prefix] = process.argv.slice(2);
if (!registryPath || prefix === undefined) {
  process.stderr.write('usage: setup.ts <registry file> <topic prefix>\n');
  process.exit(64);
}
const pgUrl = process.env.OFFSITE_PG_URL;
const brokers = process.env.OFFSITE_KAFKA_BROKERS;
if (!pgUrl || !brokers) {
  process.stderr.write('OFFSITE_PG_URL and OFFSITE_KAFKA_BROKERS must be set (source .offsite/env)\n');
  process.exit(78);
}

const logger = createLogger({ service: 'demo-setup', level: 'warn' });

/** Deletes the alerting state of the given enterprises in one transaction; returns the cases removed. */
async function clearAlertState(p: pg.Pool, enterpriseIds: string[]): Promise<number> {
  const c = await p.connect();
  try {
    await c.query('begin');
    const cases = `select deviation_id from alert_cases where enterprise_id = any($1)`;
    const notes = `select id from alert_notifications where deviation_ids && array(${cases})`;
    await c.query(`delete from review_comments where deviation_id in (${cases})`, [enterpriseIds]);
    await c.query(`delete from review_states where deviation_id in (${cases})`, [enterpriseIds]);
    await c.query(`delete from alert_delivery_receipts where notification_id in (${notes})`, [enterpriseIds]);
    await c.query(`delete from alert_delivery_attempts where notification_id in (${notes})`, [enterpriseIds]);
    await c.query(`delete from alert_notifications where id in (${notes})`, [enterpriseIds]);
    await c.query(`delete from alert_acknowledgements where split_part(group_key, '.', 1) = any($1)`, [
      enterpriseIds,
    ]);
    const res = await c.query(`delete from alert_cases where enterprise_id = any($1)`, [enterpriseIds]);
    await c.query('commit');
    return res.rowCount ?? 0;
  } catch (e) {
    await c.query('rollback').catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}

const pool = new pg.Pool({ connectionString: pgUrl, max: 2 });
const kafka = createKafkaClient({ brokers: brokers.split(','), clientId: 'offsite-demo-setup', logger });
try {
  const migrated = await runMigrations(pool, { logger });
  const imported = await importRegistry(pool, { path: registryPath }, { logger });

  // Topics of this run; earlier demo runs' topics (demo-<run>.*) are deleted so they do not pile up.
  const names = [
    kafkaTopics.telemetry,
    kafkaTopics.telemetryDlq,
    kafkaTopics.telemetryLate,
    kafkaTopics.hj212Raw,
    kafkaTopics.deviation,
    kafkaTopics.notification,
    kafkaTopics.reviewDecision,
    kafkaTopics.messageRequest,
    kafkaTopics.hj212Command,
    kafkaTopics.complaintIntake,
  ];
  const admin = kafka.admin();
  await admin.connect();
  let deleted: string[] = [];
  try {
    const stale = (await admin.listTopics()).filter((t) => /^demo-\d+\./.test(t) && !t.startsWith(prefix));
    if (stale.length > 0) {
      await admin.deleteTopics({ topics: stale, timeout: 30_000 });
      deleted = stale;
    }
  } finally {
    await admin.disconnect();
  }
  const topics = await ensureTopics(kafka, [
    ...names.map((t) => ({ topic: `${prefix}${t.name}`, numPartitions: t.partitions })),
    // The kafka-ingestor's upstream feed (the demo sends nothing on it; upstream topic names carry no
    // run prefix: upstream.<feed>.v1). Kept across runs.
    { topic: upstreamFeedTopics.name('demo'), numPartitions: 3 },
  ]);

  // Deviation ids are deterministic (enterprise, site, rule, window start), so every demo run of the
  // same day yields the ids of the previous run, and the alerter rightly treats them as already
  // handled (latest revision wins): no case, no reminder. Each run therefore starts from a clean
  // alerting state for the demo's enterprises (their cases, notifications, acknowledgements and the
  // console's review states of those cases; the audit log is append-only and kept).
  const enterpriseIds = [...(await readFile(registryPath, 'utf8')).matchAll(/^ {2}- id: (\S+)$/gm)].map(
    (m) => m[1] as string,
  );
  const cleared = await clearAlertState(pool, enterpriseIds);

  const enterprises = imported.counts.enterprises;
  process.stdout.write(
    `${JSON.stringify({
      migrationsApplied: migrated.applied.length,
      schema: migrated.schema,
      registryChanged: imported.changed,
      enterprises,
      topicsCreated: topics.created,
      topicsDeleted: deleted,
      alertCasesCleared: cleared,
    })}\n`,
  );
} finally {
  await pool.end();
}
