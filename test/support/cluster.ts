/**
 * The clustered topology of `offsite-infra cluster up` as the cluster tests drive it: its commands
 * (kill, start, stop, haproxy …), which member a port belongs to, which Kafka broker leads the most
 * partitions of a topic and which KRaft controller is active.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Kafka } from 'kafkajs';
import { createKafkaClient } from '@offsite/kafka';
import { requireEnv, silentLogger } from '@offsite/testing';
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

/** HAProxy's four servers (both gateways, both consoles). */
const HAPROXY_SERVERS = ['gateways/gw1', 'gateways/gw2', 'consoles/console1', 'consoles/console2'];

/**
 * Every HAProxy server enabled again (out of maintenance): what a test that disables one must leave, and
 * what each test that needs them first makes sure of, whatever ran before it.
 */
export async function enableHaproxyServers(): Promise<void> {
  for (const s of HAPROXY_SERVERS) await cluster('haproxy', `enable server ${s}`);
}

/** Whether nothing listens on `port` of 127.0.0.1 (a listen there succeeds). */
const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });

/**
 * Waits (polling) until the cluster's fixed service ports (gateways' and consoles' own and ops ports, which
 * tests bind) are free: a service instance of an earlier test still exiting holds one.
 */
export async function waitServicePortsFree(ms = 60_000): Promise<void> {
  const ports = [
    'OFFSITE_CLUSTER_GATEWAY_PORTS',
    'OFFSITE_CLUSTER_GATEWAY_OPS_PORTS',
    'OFFSITE_CLUSTER_CONSOLE_PORTS',
    'OFFSITE_CLUSTER_CONSOLE_OPS_PORTS',
  ].flatMap((name) => requireEnv(name).split(',').map(Number));
  const end = Date.now() + ms;
  for (;;) {
    const busy: number[] = [];
    for (const p of ports) if (!(await portFree(p))) busy.push(p);
    if (busy.length === 0) return;
    if (Date.now() > end) throw new Error(`ports ${busy.join(', ')} still in use after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
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

/** One broker's answer for `topics`: per partition its leader, replicas and in-sync replicas. */
async function brokerView(broker: string, topics: string[]): Promise<string[]> {
  // A client with this one seed broker: its admin asks that broker (the only one it is connected to).
  const kafka = createKafkaClient({
    brokers: [broker],
    clientId: 'cluster-settled',
    logger: silentLogger,
    retries: 0,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const meta = await admin.fetchTopicMetadata({ topics });
    return meta.topics
      .flatMap((t) =>
        t.partitions.map(
          (p) =>
            `${t.name}/${p.partitionId} leader ${p.leader} replicas ${[...p.replicas].sort()} isr ${[...p.isr].sort()}`,
        ),
      )
      .sort();
  } finally {
    await admin.disconnect();
  }
}

/**
 * Whether every partition of `topics` has a leader and all its replicas in sync, and every broker of
 * OFFSITE_KAFKA_BROKERS answers the same leader, replicas and in-sync replicas for each. A topic just
 * created (the pipeline's, or `__consumer_offsets` at the first group) is in the controller's metadata
 * before every broker applied it: a client asking such a broker gets "This server does not host this
 * topic-partition". For `until`: false (with why in `last`) until then.
 */
export async function kafkaSettled(topics: string[], last: { why: string } = { why: '' }): Promise<boolean> {
  const brokers = requireEnv('OFFSITE_KAFKA_BROKERS').split(',');
  let views: string[][];
  try {
    views = await Promise.all(brokers.map((b) => brokerView(b, topics)));
  } catch (err) {
    last.why = String(err);
    return false;
  }
  const [first, ...others] = views;
  const unsettled = first!.filter((l) => {
    const m = /leader (-?\d+) replicas (\S*) isr (\S*)$/.exec(l)!;
    return Number(m[1]) < 0 || m[2] !== m[3];
  });
  if (unsettled.length > 0) {
    last.why = `not led or not all replicas in sync: ${unsettled.slice(0, 3).join('; ')}`;
    return false;
  }
  const expected = topics.length;
  const named = new Set(first!.map((l) => l.slice(0, l.indexOf('/'))));
  if (named.size !== expected) {
    last.why = `${named.size} of ${expected} topics known`;
    return false;
  }
  const differing = others.findIndex((v) => JSON.stringify(v) !== JSON.stringify(first));
  if (differing >= 0) {
    last.why = `${brokers[differing + 1]} answers otherwise than ${brokers[0]}`;
    return false;
  }
  return true;
}

/** Polls `kafkaSettled` (never a fixed sleep) until it holds, or fails naming what did not settle. */
export async function waitKafkaSettled(topics: string[], ms = 120_000): Promise<void> {
  const last = { why: '' };
  const end = Date.now() + ms;
  while (!(await kafkaSettled(topics, last))) {
    if (Date.now() > end) throw new Error(`Kafka not settled within ${ms} ms: ${last.why}`);
    await new Promise((r) => setTimeout(r, 500));
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
