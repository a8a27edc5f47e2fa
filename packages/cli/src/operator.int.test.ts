// The operator commands against the real servers: migrations, registry import with its diff (dry run,
// prune, an invalid file), console accounts, and the backup/restore routine of docs/deploy.md rehearsed:
// Postgres with pg_dump/pg_restore, Kafka's topics and group offsets with `offsite backup/restore kafka`.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { verify } from '@node-rs/argon2';
import pg from 'pg';
import { createKafkaClient } from '@offsite/kafka';
import { requireEnv, silentLogger } from '@offsite/testing';
import type { KafkaBackup } from './commands/kafka-backup.js';
import { runCli } from './run.test-fixtures.js';

const exec = promisify(execFile);
const example = fileURLToPath(new URL('../../../registry/example.yaml', import.meta.url));
const id = randomBytes(4).toString('hex');
const schema = `test_cli_${id}`;
const pgUrl = requireEnv('OFFSITE_PG_URL');
const env = {
  OFFSITE_PG_URL: pgUrl,
  OFFSITE_PG_SCHEMA: schema,
  OFFSITE_KAFKA_BROKERS: requireEnv('OFFSITE_KAFKA_BROKERS'),
};

const run = (argv: string[], stdin = '') => runCli(argv, stdin, env);

let dir: string;
let pool: pg.Pool;
const count = async (table: string) =>
  Number((await pool.query<{ n: string }>(`select count(*) as n from ${table}`)).rows[0]!.n);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-cli-int-'));
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  pool = new pg.Pool({ connectionString: pgUrl, options: `-c search_path=${schema}`, max: 2 });
});

afterAll(async () => {
  await pool.end();
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`drop schema if exists ${schema} cascade`);
  await admin.query(`drop schema if exists ${schema}_restored cascade`);
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
});

describe('offsite migrate and registry import', () => {
  it('applies the migrations once', async () => {
    const first = await run(['migrate']);
    expect(first).toMatchObject({ code: 0 });
    expect(first.out).toMatch(/^applied 001_registry\.sql$/m);
    expect(first.out).toMatch(new RegExp(`^schema ${schema}: \\d+ applied, 0 already applied$`, 'm'));
    const again = await run(['migrate']);
    expect(again.out).toMatch(new RegExp(`^schema ${schema}: 0 applied, \\d+ already applied$`, 'm'));
  });

  it('prints the diff of a dry run and writes nothing', async () => {
    const r = await run(['registry', 'import', example, '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^\+ districts dist-landong$/m);
    expect(r.out).toMatch(/^\+ enterprises ent-0001$/m);
    expect(r.out).toMatch(/^would change \(dry run, nothing written\): \d+ inserted, 0 updated, 0 deleted/m);
    expect(await count('enterprises')).toBe(0);
  });

  it('imports, reports rows no longer in the file, and deletes them only with --prune', async () => {
    const imported = await run(['registry', 'import', example]);
    expect(imported.code).toBe(0);
    expect(imported.out).toMatch(/^changed: \d+ inserted/m);
    const total = await count('enterprises');
    expect(total).toBeGreaterThan(1);
    expect((await run(['registry', 'import', example])).out).toMatch(
      /^changed: 0 inserted, 0 updated, 0 deleted/m,
    );

    // The same file without its last enterprise.
    const text = readFileSync(example, 'utf8');
    const lastStart = text.lastIndexOf('\n  - id: ent-');
    const lastId = /- id: (ent-\d+)/.exec(text.slice(lastStart))![1]!;
    const cut = text.slice(0, lastStart) + '\n';
    const smaller = join(dir, 'smaller.yaml');
    writeFileSync(smaller, cut);
    const kept = await run(['registry', 'import', smaller]);
    expect(kept.out).toContain(`! enterprises ${lastId} (not in the file; kept, --prune deletes it)`);
    expect(await count('enterprises')).toBe(total);
    const dry = await run(['registry', 'import', smaller, '--prune', '--dry-run']);
    expect(dry.out).toMatch(new RegExp(`^- enterprises ${lastId}$`, 'm'));
    expect(await count('enterprises')).toBe(total);
    const pruned = await run(['registry', 'import', smaller, '--prune']);
    expect(pruned.out).toMatch(new RegExp(`^- enterprises ${lastId}$`, 'm'));
    expect(await count('enterprises')).toBe(total - 1);
    // Back to the whole file for the tests below.
    expect((await run(['registry', 'import', example])).out).toMatch(
      new RegExp(`^\\+ enterprises ${lastId}$`, 'm'),
    );
  });

  it('lists every problem of an invalid file and writes nothing (exit 1)', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, readFileSync(example, 'utf8').replace('id: dist-landong', 'id: ""'));
    const before = await count('districts');
    const r = await run(['registry', 'import', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('registry file has');
    expect(r.err).toContain('districts');
    expect(await count('districts')).toBe(before);
    expect((await run(['registry', 'import', join(dir, 'missing.yaml')])).code).toBe(2);
  });

  it('refuses a position outside OFFSITE_CITY_BOUNDS by its path (exit 1), and bad bounds as a setting (exit 78)', async () => {
    const shanghai = join(dir, 'shanghai.yaml');
    writeFileSync(
      shanghai,
      readFileSync(example, 'utf8').replace(
        'location: { lat: 30.2741, lon: 120.1552 }',
        'location: { lat: 31.2304, lon: 121.4737 }',
      ),
    );
    const bounded = (bounds: string) =>
      runCli(['registry', 'import', shanghai], '', { ...env, OFFSITE_CITY_BOUNDS: bounds });
    const r = await bounded('30.1,120,30.5,120.5');
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      'enterprises[0].location: position 31.2304, 121.4737 lies outside the city (30.1–30.5°N, 120–120.5°E) / 位置 31.2304, 121.4737 不在本市范围内',
    );
    const swapped = await bounded('30.5,120,30.1,120.5');
    expect(swapped.code).toBe(78);
    expect(swapped.err).toContain('OFFSITE_CITY_BOUNDS needs -90 ≤ south < north ≤ 90');
    expect((await bounded('30.1,120,30.5')).code).toBe(78);
    const rows = await pool.query(`select latitude from enterprises where id = 'ent-0001'`);
    expect(rows.rows).toEqual([{ latitude: 30.2741 }]);
  });

  it('names an unreachable Postgres and exits 1', async () => {
    const r = await runCli(['migrate'], '', {
      OFFSITE_PG_URL: 'postgres://offsite:secret-pw@127.0.0.1:1/offsite',
    });
    expect(r.code).toBe(1);
    expect(r.err).toContain('cannot connect to Postgres to migrate (ECONNREFUSED)');
    expect(r.out + r.err).not.toContain('secret-pw');
  });
});

describe('offsite user', () => {
  const hashOf = async (username: string) =>
    (
      await pool.query<{ password_hash: string; disabled: boolean }>(
        'select password_hash, disabled from console_users where username = $1',
        [username],
      )
    ).rows[0]!;

  it('adds an account with a generated password, printed once', async () => {
    const r = await run([
      'user',
      'add',
      'Wang.Fang',
      '--role',
      'district-officer',
      '--district',
      'dist-lanxi',
      '--name',
      '王芳',
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('created wang.fang (district-officer, district dist-lanxi)');
    const password = /^password: (\S+)$/m.exec(r.out)![1]!;
    expect(password.length).toBeGreaterThanOrEqual(12);
    expect(await verify((await hashOf('wang.fang')).password_hash, password)).toBe(true);
    const audit = await pool.query(
      'select actor_id, actor_name, action from audit_log where entity_type = $1',
      ['console_user'],
    );
    expect(audit.rows).toEqual([
      { actor_id: null, actor_name: expect.stringMatching(/^cli:/), action: 'user.add' },
    ]);
  });

  it('refuses a duplicate, an unknown district and a scope that does not fit the role (exit 1)', async () => {
    const dup = await run(['user', 'add', 'wang.fang', '--role', 'viewer']);
    expect(dup).toMatchObject({ code: 1 });
    expect(dup.err).toContain('username: wang.fang already exists');
    const district = await run([
      'user',
      'add',
      'li.lei',
      '--role',
      'district-officer',
      '--district',
      'dist-nowhere',
    ]);
    expect(district.err).toContain('district: no district dist-nowhere in the registry');
    const scope = await run(['user', 'add', 'li.lei', '--role', 'viewer', '--district', 'dist-lanxi']);
    expect(scope.code).toBe(1);
    expect(scope.err).toContain('district: required for a district-officer and only for one');
  });

  it('disables an account, ending its sessions, and a reset enables it with the new password', async () => {
    const user = await pool.query<{ id: string }>(
      `select id::text as id from console_users where username = 'wang.fang'`,
    );
    await pool.query(
      `insert into console_sessions (token_hash, user_id, csrf_token, expires_at) values ($1, $2, 'c', now() + interval '1 hour')`,
      [randomBytes(16).toString('hex'), user.rows[0]!.id],
    );
    const disabled = await run(['user', 'disable', 'wang.fang']);
    expect(disabled.out).toContain('disabled wang.fang');
    expect((await hashOf('wang.fang')).disabled).toBe(true);
    expect(await count('console_sessions')).toBe(0);
    const reset = await run(
      ['user', 'reset-password', 'wang.fang', '--password-stdin'],
      'a-new-long-passphrase\n',
    );
    expect(reset.code).toBe(0);
    expect(reset.out).not.toContain('password:');
    const row = await hashOf('wang.fang');
    expect(row.disabled).toBe(false);
    expect(await verify(row.password_hash, 'a-new-long-passphrase')).toBe(true);
    expect((await run(['user', 'disable', 'nobody'])).err).toContain('username: no user nobody');
  });
});

describe('backup and restore rehearsal', () => {
  it('Postgres: pg_dump of the schema, dropped, pg_restore gives the same registry and accounts', async () => {
    const dump = join(dir, 'offsite.dump');
    const snapshot = async (s: string) =>
      (
        await pool.query(
          `select (select json_agg(e order by id) from ${s}.enterprises e) as enterprises,
                  (select json_agg(u.username order by u.username) from ${s}.console_users u) as users,
                  (select count(*) from ${s}.schema_migrations) as migrations`,
        )
      ).rows[0];
    const before = await snapshot(schema);
    await exec('pg_dump', ['--format=custom', `--schema=${schema}`, `--file=${dump}`, pgUrl]);
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    // Restore into the same schema name after losing it (the routine of docs/deploy.md).
    await admin.query(`alter schema ${schema} rename to ${schema}_restored`);
    await exec('pg_restore', ['--exit-on-error', `--dbname=${pgUrl}`, dump]);
    await admin.end();
    expect(await snapshot(schema)).toEqual(before);
    // A migrate run after the restore finds nothing to do.
    expect((await run(['migrate'])).out).toMatch(/: 0 applied/);
  });

  it('Kafka: topics and group offsets saved, the topic and the group lost, then restored', async () => {
    const kafka = createKafkaClient({
      brokers: env.OFFSITE_KAFKA_BROKERS.split(','),
      clientId: `cli-${id}`,
      logger: silentLogger,
    });
    const admin = kafka.admin();
    await admin.connect();
    const kept = `cli-backup-${id}.kept.v1`;
    const lost = `cli-backup-${id}.lost.v1`;
    const group = `cli-backup-${id}`;
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [
          { topic: kept, numPartitions: 3, replicationFactor: 1 },
          {
            topic: lost,
            numPartitions: 2,
            replicationFactor: 1,
            configEntries: [{ name: 'retention.ms', value: '7776000000' }],
          },
        ],
      });
      const producer = kafka.producer();
      await producer.connect();
      for (const partition of [0, 1, 2])
        await producer.send({
          topic: kept,
          messages: Array.from({ length: 5 }, (_, i) => ({ partition, value: `m${i}` })),
        });
      await producer.disconnect();
      await admin.setOffsets({
        groupId: group,
        topic: kept,
        partitions: [
          { partition: 0, offset: '5' },
          { partition: 1, offset: '3' },
          { partition: 2, offset: '1' },
        ],
      });

      const file = join(dir, 'kafka.json');
      const backedUp = await run(['backup', 'kafka', '--out', file]);
      expect(backedUp.code).toBe(0);
      const saved = JSON.parse(readFileSync(file, 'utf8')) as KafkaBackup;
      expect(saved.topics.find((t) => t.name === lost)).toEqual({
        name: lost,
        partitions: 2,
        replicationFactor: 1,
        configs: { 'retention.ms': '7776000000' },
      });
      expect(saved.groups.find((g) => g.groupId === group)?.offsets).toEqual([
        { topic: kept, partition: 0, offset: '5' },
        { topic: kept, partition: 1, offset: '3' },
        { topic: kept, partition: 2, offset: '1' },
      ]);

      // Loss: the group's offsets and one topic. Restore this test's part of the backup.
      await admin.deleteGroups([group]);
      await admin.deleteTopics({ topics: [lost] });
      const ours: KafkaBackup = {
        ...saved,
        topics: saved.topics.filter((t) => t.name === kept || t.name === lost),
        groups: saved.groups.filter((g) => g.groupId === group),
      };
      const partial = join(dir, 'kafka-ours.json');
      writeFileSync(partial, JSON.stringify(ours));
      const dry = await run(['restore', 'kafka', partial, '--dry-run']);
      expect(dry.out).toContain(`+ topic ${lost}: 2 partitions, replication 1, retention.ms=7776000000`);
      expect((await admin.listTopics()).includes(lost)).toBe(false);
      const restored = await run(['restore', 'kafka', partial]);
      expect(restored.code).toBe(0);
      expect(restored.out).toContain(`= topic ${kept} exists`);
      expect(restored.out).toContain(`~ group ${group} on ${kept}: 3 partition offsets`);
      const meta = await admin.fetchTopicMetadata({ topics: [lost] });
      expect(meta.topics[0]!.partitions).toHaveLength(2);
      const offsets = await admin.fetchOffsets({ groupId: group, topics: [kept] });
      expect(offsets[0]!.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([
        [0, '5'],
        [1, '3'],
        [2, '1'],
      ]);
    } finally {
      await admin.deleteTopics({ topics: [kept, lost] }).catch(() => undefined);
      await admin.deleteGroups([group]).catch(() => undefined);
      await admin.disconnect();
    }
  });
});
