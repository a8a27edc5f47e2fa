// Alerter throughput on the real servers of .offsite/env. Prints numbers; asserts nothing.
//   npm run bench:alert            (from the repository root; N=2000 SENDS=1000 to change sizes)
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { DeviationV1 } from '@offsite/contracts';
import { createEmailChannel, createOutboxChannel, type Channel } from '@offsite/notify';
import { createSilentLogger } from '@offsite/runtime';
import { importRegistry, runMigrations } from '@offsite/store';
import { createAlerter } from '../src/app.js';
import { defaultPolicy } from '../src/policy.js';

const need = (k: string) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set (run through npm run bench:alert, which sources .offsite/env)`);
  return v;
};
const root = path.resolve(import.meta.dirname, '../../..');
const N = Number(process.env.N ?? 2000);
const SENDS = Number(process.env.SENDS ?? 1000);
const id = randomBytes(4).toString('hex');
const schema = `bench_${id}`;
const domain = `b${id}.example`;
const logger = createSilentLogger();
const redisUrl = new URL(need('OFFSITE_REDIS_URL'));
const connection = { host: redisUrl.hostname, port: Number(redisUrl.port), maxRetriesPerRequest: null };

const dev = (i: number, ent: string): DeviationV1 => ({
  schema: 'deviation.v1',
  id: `bench-${id}-${i}`,
  rule: 'treatment-idle',
  state: 'opened',
  revision: 1,
  severity: 'medium',
  enterpriseId: ent,
  siteId: `site-${ent}`,
  windowStart: '2026-03-01T02:00:00Z',
  openedAt: '2026-03-01T02:30:00Z',
  suspectedFalsification: false,
  inResumptionWindow: false,
  evidence: { summary: 'idle', values: [], params: {} },
  emittedAt: '2026-03-01T02:31:00Z',
});

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

const admin = new pg.Client({ connectionString: need('OFFSITE_PG_URL') });
await admin.connect();
await admin.query(`create schema ${schema}`);
await admin.end();
const pool = new pg.Pool({
  connectionString: need('OFFSITE_PG_URL'),
  options: `-c search_path=${schema}`,
  max: 20,
});
const dir = await mkdtemp(path.join(tmpdir(), 'alerter-bench-'));
try {
  await runMigrations(pool, { logger });
  await importRegistry(pool, { path: path.join(root, 'registry/example.yaml') }, { logger });
  await pool.query(`update contacts set email = 'c' || id || '@${domain}' where email is not null`);
  const ents = (
    await pool.query<{ enterprise_id: string }>(
      `select distinct enterprise_id from contacts where role = 'env-manager' and email is not null`,
    )
  ).rows.map((r) => r.enterprise_id);

  // 1. deviations/s through case upsert + plan enqueue (no workers).
  {
    const a = createAlerter({
      db: pool,
      connection,
      prefix: `bench-${id}-a`,
      logger,
      policy: defaultPolicy({ districtOfficers: {}, citySupervisors: [] }),
      channels: { outbox: createOutboxChannel({ dir, as: 'email' }, logger) },
      ack: { secret: 'bench-secret-bench', baseUrl: 'http://127.0.0.1:8090/ack' },
    });
    const t = performance.now();
    const CONC = 16;
    let next = 0;
    await Promise.all(
      Array.from({ length: CONC }, async () => {
        while (next < N) {
          const i = next++;
          await a.handleDeviation(dev(i, ents[i % ents.length]!));
        }
      }),
    );
    const s = (performance.now() - t) / 1000;
    console.log(
      `upsert+enqueue: ${N} deviations in ${s.toFixed(2)} s = ${(N / s).toFixed(0)} deviations/s (16 in flight)`,
    );
    await a.close();
    await pool.query('truncate alert_cases cascade');
  }

  // 2. sends/s: each deviation its own group (group wait 1 ms), one recipient, one channel.
  async function sends(label: string, channel: Channel, channelName: 'email' | 'outbox'): Promise<void> {
    const p = defaultPolicy({ districtOfficers: {}, citySupervisors: [] });
    p.groupWaitMs = 1;
    delete p.quietHours;
    p.entries = p.entries.map((e) => ({
      ...e,
      channels: [channelName],
      repeat: { ...e.repeat, maxCount: 1 },
    }));
    delete p.entries[2]!.escalateAfterMs;
    const a = createAlerter({
      db: pool,
      connection,
      prefix: `bench-${id}-${label}`,
      logger,
      policy: p,
      channels: channelName === 'email' ? { email: channel } : { outbox: channel },
      ack: { secret: 'bench-secret-bench', baseUrl: 'http://127.0.0.1:8090/ack' },
      send: { concurrency: 50 },
    });
    a.start();
    const t = performance.now();
    for (let i = 0; i < SENDS; i++) {
      await a.handleDeviation(dev(100_000 + i, ents[i % ents.length]!));
      if (i % 12 === 11) await new Promise((r) => setTimeout(r, 1)); // next group bucket
    }
    let done = 0;
    const want = (
      await pool.query<{ n: number }>(`select count(distinct group_key)::int as n from alert_cases`)
    ).rows[0]!.n;
    while (done < want && performance.now() - t < 120_000) {
      await new Promise((r) => setTimeout(r, 200));
      done = (
        await pool.query<{ n: number }>(
          `select count(*)::int as n from alert_notifications where status = 'sent'`,
        )
      ).rows[0]!.n;
    }
    const s = (performance.now() - t) / 1000;
    const lat = (
      await pool.query<{ ms: number }>(
        `select extract(epoch from (n.sent_at - c.created_at)) * 1000 as ms
           from alert_notifications n join alert_cases c on c.group_key = n.group_key where n.status = 'sent'`,
      )
    ).rows.map((r) => Number(r.ms));
    console.log(
      `${label}: ${done}/${want} notifications in ${s.toFixed(2)} s = ${(done / s).toFixed(0)} notifications/s; ` +
        `deviation→accepted p50 ${pct(lat, 50).toFixed(0)} ms, p99 ${pct(lat, 99).toFixed(0)} ms`,
    );
    await a.close();
    await channel.close();
    await pool.query('truncate alert_cases, alert_notifications, alert_delivery_attempts cascade');
  }
  await sends('outbox', createOutboxChannel({ dir, as: 'email' }, logger), 'outbox');
  await sends(
    'smtp-pooled',
    createEmailChannel(
      {
        host: need('OFFSITE_SMTP_HOST'),
        port: Number(need('OFFSITE_SMTP_PORT')),
        from: { address: 'noreply@qinglan.example' },
        messageIdDomain: `bench-${id}.offsite`,
        maxConnections: 5,
      },
      logger,
    ),
    'email',
  );
  // Duplicates: the same Message-ID more than once in the SMTP sink.
  const mailDir = process.env.OFFSITE_MAIL_DIR;
  if (mailDir) {
    const ids = new Map<string, number>();
    for (const f of await readdir(mailDir)) {
      if (!f.endsWith('.json')) continue;
      const m = JSON.parse(await readFile(path.join(mailDir, f), 'utf8')) as { messageId?: string };
      if (m.messageId?.endsWith(`@bench-${id}.offsite>`))
        ids.set(m.messageId, (ids.get(m.messageId) ?? 0) + 1);
      if (m.messageId?.endsWith(`@bench-${id}.offsite>`)) await rm(path.join(mailDir, f), { force: true });
    }
    console.log(
      `smtp sink: ${ids.size} distinct Message-IDs, ${[...ids.values()].filter((n) => n > 1).length} duplicates`,
    );
  }
} finally {
  const redis = new Redis(connection);
  const keys = await redis.keys(`bench-${id}-*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  await pool.query(`drop schema ${schema} cascade`);
  await pool.end();
  await rm(dir, { recursive: true, force: true });
}
