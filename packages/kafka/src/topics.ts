import type { Kafka } from 'kafkajs';

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  replicationFactor?: number;
  configEntries?: { name: string; value: string }[];
}

/**
 * Creates the topics that do not exist yet and waits for their leaders. Existing topics are left as
 * they are (a partition count that differs is reported, never changed silently).
 */
export async function ensureTopics(
  kafka: Kafka,
  specs: TopicSpec[],
): Promise<{ created: string[]; mismatched: string[] }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((s) => ({
          topic: s.topic,
          numPartitions: s.numPartitions,
          replicationFactor: s.replicationFactor ?? 1,
          configEntries: s.configEntries ?? [],
        })),
      });
    }
    const present = specs.filter((s) => existing.has(s.topic));
    const mismatched: string[] = [];
    if (present.length > 0) {
      const meta = await admin.fetchTopicMetadata({ topics: present.map((s) => s.topic) });
      for (const t of meta.topics) {
        const want = specs.find((s) => s.topic === t.name);
        if (want && t.partitions.length !== want.numPartitions) mismatched.push(t.name);
      }
    }
    return { created: missing.map((s) => s.topic), mismatched };
  } finally {
    await admin.disconnect();
  }
}
