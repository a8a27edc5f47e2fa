/**
 * `offsite backup kafka` / `offsite restore kafka`: what Kafka's own tools do not save, Offsite's Kafka
 * metadata — every topic with its partitions, replication factor and the settings set on it, and every
 * consumer group's committed offsets — as one JSON file. The records themselves are not backed up:
 * Kafka is a buffer here (replicated three ways); the stores of record are Postgres and InfluxDB.
 * Restore recreates missing topics and puts each group's offsets back, clamped to what the topic holds.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { Type, type Static } from '@sinclair/typebox';
import kafkajs, { type Admin } from 'kafkajs';
import { createKafkaClient } from '@offsite/kafka';
import { KafkaSecurityEnv, createSilentLogger, kafkaSecurity, type DeepReadonly } from '@offsite/runtime';
import { parse } from '../args.js';
import { EXIT_INPUT_PROBLEM, EXIT_OK, UsageError, type CliIo, type Command } from '../command.js';
import { SETTINGS_USAGE, environmentOf, settingsOptions, withSettings } from '../settings.js';

// KafkaJS is CommonJS; its enums are properties of the default export under Node's ESM loader.
const { ConfigResourceTypes } = kafkajs;

export const KAFKA_BACKUP_FORMAT = 'offsite-kafka-metadata/1';

export interface KafkaBackup {
  format: typeof KAFKA_BACKUP_FORMAT;
  takenAt: string;
  topics: Array<{
    name: string;
    partitions: number;
    replicationFactor: number;
    configs: Record<string, string>;
  }>;
  groups: Array<{ groupId: string; offsets: Array<{ topic: string; partition: number; offset: string }> }>;
}

/** The brokers and the services' transport security settings (TLS, SASL/SCRAM), as the services read them. */
const KafkaSettings = Type.Object({
  OFFSITE_KAFKA_BROKERS: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
  ...KafkaSecurityEnv,
});

async function withAdmin<T>(
  settings: DeepReadonly<Static<typeof KafkaSettings>>,
  work: (admin: Admin) => Promise<T>,
): Promise<T> {
  const kafka = createKafkaClient({
    brokers: [...settings.OFFSITE_KAFKA_BROKERS],
    clientId: 'offsite-cli',
    logger: createSilentLogger(),
    retries: 2,
    ...kafkaSecurity(settings),
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Reads the metadata of every topic (internal ones aside) and every group's committed offsets. */
export async function readKafkaMetadata(admin: Admin, now = new Date()): Promise<KafkaBackup> {
  const names = (await admin.listTopics()).filter((t) => !t.startsWith('__')).sort();
  const meta = names.length > 0 ? await admin.fetchTopicMetadata({ topics: names }) : { topics: [] };
  const described =
    names.length > 0
      ? await admin.describeConfigs({
          includeSynonyms: false,
          resources: names.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
        })
      : { resources: [] };
  const configsOf = new Map(
    described.resources.map((r) => [
      r.resourceName,
      Object.fromEntries(
        r.configEntries
          // Only what was set on the topic itself (not broker defaults).
          .filter((e) => !e.isDefault && (e as { configSource?: number }).configSource === 1)
          .map((e) => [e.configName, e.configValue]),
      ),
    ]),
  );
  const topics = meta.topics
    .map((t) => ({
      name: t.name,
      partitions: t.partitions.length,
      replicationFactor: Math.max(...t.partitions.map((p) => p.replicas.length)),
      configs: configsOf.get(t.name) ?? {},
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const { groups: listed } = await admin.listGroups();
  const groups: KafkaBackup['groups'] = [];
  for (const { groupId } of [...listed].sort((a, b) => a.groupId.localeCompare(b.groupId))) {
    const fetched = await admin.fetchOffsets({ groupId });
    const offsets = fetched.flatMap(({ topic, partitions }) =>
      partitions
        .filter((p) => Number(p.offset) >= 0)
        .map((p) => ({ topic, partition: p.partition, offset: p.offset })),
    );
    offsets.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
    if (offsets.length > 0) groups.push({ groupId, offsets });
  }
  return { format: KAFKA_BACKUP_FORMAT, takenAt: now.toISOString(), topics, groups };
}

function parseBackup(text: string, path: string): KafkaBackup {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw new UsageError(`${path} is not JSON: ${(cause as Error).message}`);
  }
  const b = data as Partial<KafkaBackup>;
  if (b.format !== KAFKA_BACKUP_FORMAT || !Array.isArray(b.topics) || !Array.isArray(b.groups))
    throw new UsageError(`${path} is not an offsite Kafka metadata backup (format ${KAFKA_BACKUP_FORMAT})`);
  return b as KafkaBackup;
}

export interface RestorePlanOptions {
  dryRun: boolean;
  /** Replication factor for topics created now (default: the one saved). */
  replicationFactor?: number | undefined;
}

/** Restores topics and offsets; returns one line per action or problem (problems start with `!`). */
export async function restoreKafkaMetadata(
  admin: Admin,
  backup: KafkaBackup,
  opts: RestorePlanOptions,
): Promise<string[]> {
  const lines: string[] = [];
  const existing = new Set(await admin.listTopics());
  const present = backup.topics.filter((t) => existing.has(t.name));
  const missing = backup.topics.filter((t) => !existing.has(t.name));
  if (present.length > 0) {
    const meta = await admin.fetchTopicMetadata({ topics: present.map((t) => t.name) });
    for (const t of meta.topics) {
      const want = backup.topics.find((b) => b.name === t.name)!;
      if (t.partitions.length !== want.partitions)
        lines.push(
          `! topic ${t.name} has ${t.partitions.length} partitions, the backup ${want.partitions}: left as it is`,
        );
      else lines.push(`= topic ${t.name} exists`);
    }
  }
  for (const t of missing)
    lines.push(
      `+ topic ${t.name}: ${t.partitions} partitions, replication ${opts.replicationFactor ?? t.replicationFactor}` +
        `${
          Object.keys(t.configs).length
            ? `, ${Object.entries(t.configs)
                .map(([k, v]) => `${k}=${v}`)
                .join(' ')}`
            : ''
        }`,
    );
  if (!opts.dryRun && missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((t) => ({
        topic: t.name,
        numPartitions: t.partitions,
        replicationFactor: opts.replicationFactor ?? t.replicationFactor,
        configEntries: Object.entries(t.configs).map(([name, value]) => ({ name, value })),
      })),
    });
  }
  for (const g of backup.groups) {
    const byTopic = new Map<string, Array<{ partition: number; offset: string }>>();
    for (const o of g.offsets) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o]);
    for (const [topic, partitions] of byTopic) {
      if (!backup.topics.some((t) => t.name === topic) && !existing.has(topic)) {
        lines.push(
          `! group ${g.groupId}: topic ${topic} is neither in the backup nor in the cluster; skipped`,
        );
        continue;
      }
      // Clamp to what the topic holds now: after a loss of the cluster the records are gone.
      const bounds =
        opts.dryRun && !existing.has(topic)
          ? partitions.map((p) => ({ partition: p.partition, low: '0', high: '0' }))
          : await admin.fetchTopicOffsets(topic);
      const set = partitions.map((p) => {
        const b = bounds.find((x) => x.partition === p.partition);
        const low = BigInt(b?.low ?? '0');
        const high = BigInt(b?.high ?? '0');
        let offset = BigInt(p.offset);
        if (offset < low) offset = low;
        if (offset > high) offset = high;
        return { partition: p.partition, offset: offset.toString(), clamped: offset.toString() !== p.offset };
      });
      const clamped = set.filter((s) => s.clamped).length;
      lines.push(
        `~ group ${g.groupId} on ${topic}: ${set.length} partition offsets${clamped ? ` (${clamped} clamped to the records the topic holds)` : ''}`,
      );
      if (!opts.dryRun) {
        try {
          await admin.setOffsets({
            groupId: g.groupId,
            topic,
            partitions: set.map(({ partition, offset }) => ({ partition, offset })),
          });
        } catch (error) {
          lines.push(
            `! group ${g.groupId} on ${topic}: offsets not set (${(error as Error).message}); stop its consumers and run again`,
          );
        }
      }
    }
  }
  return lines;
}

export const backupKafkaCommand: Command = {
  path: ['backup', 'kafka'],
  summary: 'save Kafka topics (partitions, settings) and consumer group offsets as JSON',
  usage: [
    'Usage: offsite backup kafka --out FILE [--env-file FILE] [--unit FILE]',
    '',
    "Writes every topic's partitions, replication factor and topic-level settings and every consumer",
    "group's committed offsets (from OFFSITE_KAFKA_BROKERS) to FILE. Records are not saved: Postgres",
    '(pg_dump) and InfluxDB (influxd backup) hold the data of record; docs/deploy.md has the whole routine.',
    ...SETTINGS_USAGE,
    'Exit code: 0 written, 1 Kafka unreachable or FILE not writable, 2 usage error, 78 bad settings.',
  ].join('\n'),
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { values, positionals } = parse(args, { ...settingsOptions, out: { type: 'string' } });
    if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
    if (!values.out) throw new UsageError('--out FILE is required');
    const out = values.out;
    return withSettings(io, 'backup kafka', KafkaSettings, environmentOf(values, io), async (s) => {
      const backup = await withAdmin(s, (admin) => readKafkaMetadata(admin));
      await writeFile(out, `${JSON.stringify(backup, null, 2)}\n`, { mode: 0o640 });
      io.stdout.write(`${out}: ${backup.topics.length} topics, ${backup.groups.length} consumer groups\n`);
      return EXIT_OK;
    });
  },
};

export const restoreKafkaCommand: Command = {
  path: ['restore', 'kafka'],
  summary: 'recreate Kafka topics and consumer group offsets from a backup',
  usage: [
    'Usage: offsite restore kafka FILE [--dry-run] [--replication-factor N] [--env-file FILE] [--unit FILE]',
    '',
    'Creates the topics of FILE that the cluster lacks (partitions, settings; an existing topic is left',
    "as it is and a partition count that differs is reported), then sets each consumer group's offsets,",
    'clamped to the records each partition holds now. A group must have no running consumer: stop the',
    'services first. Prints one line per action: + created, = exists, ~ offsets set, ! problem.',
    '  --dry-run                 print what would be done',
    '  --replication-factor N    for the topics created (e.g. 1 on a single-broker rehearsal)',
    ...SETTINGS_USAGE,
    'Exit code: 0 restored, 1 some problem (listed), 2 usage error, 78 bad settings.',
  ].join('\n'),
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { values, positionals } = parse(args, {
      ...settingsOptions,
      'dry-run': { type: 'boolean' },
      'replication-factor': { type: 'string' },
    });
    if (positionals.length !== 1) throw new UsageError('give exactly one backup FILE');
    const path = positionals[0]!;
    const rf = values['replication-factor'];
    if (rf !== undefined && !/^[1-9]\d*$/.test(rf))
      throw new UsageError(`--replication-factor must be a positive integer, got "${rf}"`);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (cause) {
      throw new UsageError(`cannot read ${path} (${(cause as NodeJS.ErrnoException).code})`, { cause });
    }
    const backup = parseBackup(text, path);
    return withSettings(io, 'restore kafka', KafkaSettings, environmentOf(values, io), async (s) => {
      const lines = await withAdmin(s, (admin) =>
        restoreKafkaMetadata(admin, backup, {
          dryRun: values['dry-run'] === true,
          replicationFactor: rf === undefined ? undefined : Number(rf),
        }),
      );
      for (const line of lines) io.stdout.write(`${line}\n`);
      return lines.some((l) => l.startsWith('!')) ? EXIT_INPUT_PROBLEM : EXIT_OK;
    });
  },
};
