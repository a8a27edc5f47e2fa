/**
 * The clustered topology of `offsite-infra cluster up` as the cluster tests drive it: its commands
 * (kill, start, stop, haproxy …), which member a port belongs to, which Kafka broker leads the most
 * partitions of a topic and which KRaft controller is active.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Kafka } from 'kafkajs';
import { requireEnv } from '@offsite/testing';
import { repoRoot } from './pipeline.js';

const run = promisify(execFile);

/** `offsite-infra cluster <args>` (the cluster of OFFSITE_CLUSTER_DIR); its stdout. */
export async function cluster(...args: string[]): Promise<string> {
  return (
    await run('bash', [join(repoRoot, 'infra/bin/offsite-infra'), 'cluster', ...args], {
      env: process.env,
      maxBuffer: 1 << 22,
      timeout: 300_000,
    })
  ).stdout;
}

/** Ports of the cluster's layout (infra/README.md#cluster-mode): base + offset. */
const base = () => Number(requireEnv('OFFSITE_CLUSTER_PORT_BASE'));

/** The Kafka broker member (kafka-b1…3) leading the most partitions of `topic`. */
export async function busiestLeader(kafka: Kafka, topic: string): Promise<{ member: string; leads: number }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [meta, described] = await Promise.all([
      admin.fetchTopicMetadata({ topics: [topic] }),
      admin.describeCluster(),
    ]);
    const leads = new Map<number, number>();
    for (const p of meta.topics[0]!.partitions) leads.set(p.leader, (leads.get(p.leader) ?? 0) + 1);
    const [nodeId, n] = [...leads].sort((a, b) => b[1] - a[1])[0]!;
    const port = described.brokers.find((b) => b.nodeId === nodeId)!.port;
    // kafka-b1…3 listen on base + 30…32.
    return { member: `kafka-b${port - base() - 29}`, leads: n };
  } finally {
    await admin.disconnect();
  }
}

/** Every partition of `topic` led, with `replicas` in-sync replicas. */
export async function inSync(kafka: Kafka, topic: string, replicas = 3): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    return meta.topics[0]!.partitions.every((p) => p.leader >= 0 && p.isr.length === replicas);
  } finally {
    await admin.disconnect();
  }
}

/**
 * The active KRaft controller (kafka-c1…3, node ids 1–3) and its epoch, from the voters' quorum-state
 * files: the highest epoch's leader.
 */
export async function activeController(): Promise<{ member: string; epoch: number } | null> {
  let best: { member: string; epoch: number } | null = null;
  for (const i of [1, 2, 3]) {
    const file = join(
      requireEnv('OFFSITE_CLUSTER_DIR'),
      'data',
      `kafka-c${i}`,
      '__cluster_metadata-0',
      'quorum-state',
    );
    const state = await readFile(file, 'utf8')
      .then((t) => JSON.parse(t) as { leaderId?: number; leaderEpoch?: number })
      .catch(() => null);
    if (!state || state.leaderId === undefined || state.leaderId < 1 || state.leaderEpoch === undefined)
      continue;
    if (!best || state.leaderEpoch > best.epoch)
      best = { member: `kafka-c${state.leaderId}`, epoch: state.leaderEpoch };
  }
  return best;
}

/** The Redis member (redis-1…3 on base + 10…12) Sentinel names as the primary. */
export async function redisPrimary(sentinelCall: (...args: string[]) => Promise<unknown>): Promise<string> {
  const [, port] = (await sentinelCall('sentinel', 'get-master-addr-by-name', 'offsite')) as string[];
  return `redis-${Number(port) - base() - 9}`;
}
