// The clustered topology of `offsite-infra cluster up` (scripts/test-cluster.sh starts it): Kafka keeps
// acknowledged records through a partition leader's kill -9 (replication 3, min.insync.replicas 2),
// Sentinel fails Redis over and clients follow, the Postgres replica streams and a manual promotion
// works as docs/deploy.md describes it, and HAProxy hands each gateway connection over with a PROXY v2
// header and keeps serving the console with one instance gone.
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, request, type Server as HttpServer } from 'node:http';
import { createServer, connect, type Server } from 'node:net';
import { createBatchConsumer, createDurableProducer, createKafkaClient } from '@offsite/kafka';
import { redisConnectionOptions } from '@offsite/runtime';
import { requireEnv, silentLogger, until } from '@offsite/testing';
import { Redis } from 'ioredis';
import pg from 'pg';
import { cluster, enableHaproxyServers, waitKafkaSettled, waitServicePortsFree } from '../support/cluster.js';

const brokers = requireEnv('OFFSITE_KAFKA_BROKERS').split(',');
const tag = randomUUID().slice(0, 8);

describe('Kafka: 3 brokers, 3 controllers, replication 3, min.insync.replicas 2', () => {
  it('has the production partition counts with 3 in-sync replicas; acknowledged records survive the kill -9 of a leader', async () => {
    const kafka = createKafkaClient({ brokers, clientId: `cluster-test-${tag}`, logger: silentLogger });
    const admin = kafka.admin();
    await admin.connect();
    // The topics `cluster up` created: led, all replicas in sync, and every broker agreeing on that.
    await waitKafkaSettled(['telemetry.v1', 'hj212.raw.v1', 'deviation.v1', 'telemetry.dlq.v1']);
    const meta = await admin.fetchTopicMetadata({ topics: ['telemetry.v1', 'hj212.raw.v1', 'deviation.v1'] });
    const counts = Object.fromEntries(meta.topics.map((t) => [t.name, t.partitions.length]));
    expect(counts).toEqual({ 'telemetry.v1': 12, 'hj212.raw.v1': 12, 'deviation.v1': 6 });
    for (const t of meta.topics)
      for (const p of t.partitions) {
        expect(p.replicas).toHaveLength(3);
        expect(p.isr).toHaveLength(3);
      }
    const described = await admin.describeCluster();
    expect(described.brokers).toHaveLength(3);
    const [cfg] = (
      await admin.describeConfigs({
        resources: [{ type: 2, name: 'telemetry.v1', configNames: ['min.insync.replicas'] }],
        includeSynonyms: false,
      })
    ).resources;
    expect(cfg!.configEntries.find((e) => e.configName === 'min.insync.replicas')?.configValue).toBe('2');

    // kill -9 the broker leading partition 0, produce on with acks=all, then bring it back.
    const topic = 'telemetry.dlq.v1';
    const leaderOf0 = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.find(
      (p) => p.partitionId === 0,
    )!.leader;
    const port = described.brokers.find((b) => b.nodeId === leaderOf0)!.port;
    const victim = `kafka-b${brokers.findIndex((b) => b.endsWith(`:${port}`)) + 1}`;
    const producer = createDurableProducer(kafka, { logger: silentLogger });
    await producer.connect();
    const sent: string[] = [];
    // A send that fails (while the killed leader is not yet fenced) is not acknowledged: sent again, as a
    // logger resends what got no reply. The producer is at-least-once too: a send it retried after a
    // failure goes again whole, also to the brokers that had written their part. Only values sent while
    // the leader was dead (`resent`, and every send from the kill until its partitions moved) may appear
    // more than once; every other value exactly once.
    const resent = new Set<string>();
    const send = async (n: number) => {
      const batch = Array.from({ length: n }, (_, i) => `${tag}-${sent.length + i}`);
      for (let attempt = 1; ; attempt++) {
        try {
          await producer.send(
            topic,
            batch.map((v) => ({ key: v, value: v })),
          );
          break;
        } catch (err) {
          if (attempt === 5) throw err;
          for (const v of batch) resent.add(v);
          await new Promise((r) => setTimeout(r, 1_000));
        }
      }
      sent.push(...batch);
    };
    await send(100);
    await cluster('kill', victim);
    // Sends over every broker's partitions while the dead leader's partitions move to the others (which
    // answer the same sends): where KafkaJS's own produce retry dropped records (createDurableProducer).
    const leaderOf0Now = async () =>
      (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.find(
        (p) => p.partitionId === 0,
      )!.leader;
    while ((await leaderOf0Now()) === leaderOf0) await send(30);
    await send(100);
    sent.forEach((v, i) => i >= 100 && resent.add(v));
    await cluster('start', victim);
    await send(100);
    await producer.disconnect();

    const got = new Map<string, number>();
    const consumer = createBatchConsumer({
      kafka,
      groupId: `cluster-test-${tag}`,
      topics: [topic],
      fromBeginning: true,
      logger: silentLogger,
      handle: async (b) => {
        for (const m of b.messages) {
          const v = m.value!.toString();
          if (v.startsWith(tag)) got.set(v, (got.get(v) ?? 0) + 1);
        }
      },
    });
    await consumer.start();
    await until(() => got.size >= sent.length, 60_000, 'every acknowledged record');
    await consumer.stop();
    expect([...got.keys()].sort()).toEqual([...sent].sort());
    expect([...got].filter(([v, n]) => n !== 1 && !resent.has(v))).toEqual([]);

    await until(
      async () =>
        (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.every(
          (p) => p.isr.length === 3,
        ),
      60_000,
      `${victim} back in sync`,
    );
    await admin.disconnect();
  }, 240_000);
});

describe('Redis: a primary, 2 replicas, 3 Sentinels', () => {
  it('fails over when the primary is killed; a client through the Sentinels follows and keeps the data', async () => {
    const redis = new Redis({
      ...redisConnectionOptions(requireEnv('OFFSITE_REDIS_URL')),
      maxRetriesPerRequest: null,
    });
    const key = `cluster-test:${tag}`;
    await redis.set(key, 'before', 'EX', 600);
    await redis.wait(1, 5000);
    const sentinels = requireEnv('OFFSITE_REDIS_URL')
      .replace(/^redis\+sentinel:\/\//, '')
      .split('/')[0]!
      .split(',');
    const sentinel = new Redis({ host: '127.0.0.1', port: Number(sentinels[0]!.split(':')[1]) });
    const master = async () =>
      ((await sentinel.call('sentinel', 'get-master-addr-by-name', 'offsite')) as string[])[1];
    const before = await master();
    // redis-1..3 listen on the cluster's base + 10..12.
    const member = `redis-${Number(before) - Number(requireEnv('OFFSITE_CLUSTER_PORT_BASE')) - 9}`;
    await cluster('kill', member);
    await until(async () => (await master()) !== before, 60_000, 'a Sentinel failover');
    expect(await redis.get(key)).toBe('before');
    await redis.set(key, 'after', 'EX', 600);
    await cluster('start', member);
    // The old primary comes back as a replica of the new one.
    const old = new Redis({ host: '127.0.0.1', port: Number(before) });
    await until(
      async () => /role:slave[\s\S]*master_link_status:up/.test(await old.info('replication')),
      60_000,
      `${member} a replica again`,
    );
    await until(
      async () => (await old.get(key)) === 'after',
      30_000,
      'the write after the failover replicated',
    );
    old.disconnect();
    sentinel.disconnect();
    redis.disconnect();
  }, 180_000);
});

describe('Postgres: a primary and a streaming replica', () => {
  it('streams to the replica; a manual promotion makes it the primary with every committed row', async () => {
    const primary = new pg.Client({ connectionString: requireEnv('OFFSITE_PG_URL') });
    const replica = new pg.Client({ connectionString: requireEnv('OFFSITE_PG_REPLICA_URL') });
    await primary.connect();
    await replica.connect();
    const table = `cluster_test_${tag}`;
    await primary.query(`create table ${table} (n int primary key)`);
    await primary.query(`insert into ${table} select generate_series(1, 1000)`);
    expect((await replica.query<{ r: boolean }>('select pg_is_in_recovery() as r')).rows[0]!.r).toBe(true);
    await until(
      async () =>
        (await replica.query(`select 1 from pg_tables where tablename = $1`, [table])).rowCount === 1 &&
        (await replica.query<{ c: string }>(`select count(*) as c from ${table}`)).rows[0]!.c === '1000',
      30_000,
      'the rows on the replica',
    );
    await expect(replica.query(`insert into ${table} values (0)`)).rejects.toThrow(/read-only transaction/);
    await primary.end().catch(() => undefined);
    await replica.end();

    const oldPrimaryUrl = requireEnv('OFFSITE_PG_URL');
    await cluster('pg-promote');
    // The env file now names the promoted server as the primary.
    const env = await cluster('env');
    const newPrimaryUrl = /^OFFSITE_PG_URL=(.*)$/m.exec(env)![1]!;
    expect(newPrimaryUrl).toBe(requireEnv('OFFSITE_PG_REPLICA_URL'));
    const promoted = new pg.Client({ connectionString: newPrimaryUrl });
    await promoted.connect();
    expect((await promoted.query<{ r: boolean }>('select pg_is_in_recovery() as r')).rows[0]!.r).toBe(false);
    expect((await promoted.query<{ c: string }>(`select count(*) as c from ${table}`)).rows[0]!.c).toBe(
      '1000',
    );
    await promoted.query(`insert into ${table} values (1001)`);
    const rebuilt = new pg.Client({ connectionString: oldPrimaryUrl });
    await rebuilt.connect();
    await until(
      async () => (await rebuilt.query(`select 1 from ${table} where n = 1001`)).rowCount === 1,
      30_000,
      'the old primary streaming from the new one',
    );
    expect((await rebuilt.query<{ r: boolean }>('select pg_is_in_recovery() as r')).rows[0]!.r).toBe(true);
    await rebuilt.end();
    await promoted.query(`drop table ${table}`);
    await promoted.end();
    // Back to the layout of `up` (pg-1 the primary) for whoever runs next.
    await cluster('pg-promote');
  }, 240_000);
});

describe('HAProxy: gateways over TCP with PROXY v2, consoles over HTTP', () => {
  const csv = (name: string) => requireEnv(name).split(',').map(Number);
  const servers: (Server | HttpServer)[] = [];
  // Whatever ran before (the chaos run binds the same ports and takes gateways out), and whatever these
  // tests do: the ports free and every server enabled before, every server enabled after.
  beforeAll(async () => {
    await waitServicePortsFree();
    await enableHaproxyServers();
  }, 90_000);
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r(undefined)))));
    await enableHaproxyServers();
  });
  const listen = async <S extends Server | HttpServer>(s: S, port: number): Promise<S> => {
    servers.push(s);
    await new Promise<void>((r) => s.listen(port, '127.0.0.1', () => r()));
    return s;
  };
  const ready = (port: number, ok: () => boolean) =>
    listen(
      createHttpServer((_, res) => {
        res.statusCode = ok() ? 200 : 503;
        res.end();
      }),
      port,
    );
  const get = (url: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      request(url, { agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
        .on('error', reject)
        .end();
    });

  it('prefixes each logger connection with a PROXY v2 header naming the logger; a disabled gateway gets none', async () => {
    const [gw1, gw2] = csv('OFFSITE_CLUSTER_GATEWAY_PORTS');
    const [ops1, ops2] = csv('OFFSITE_CLUSTER_GATEWAY_OPS_PORTS');
    const heads: { gw: number; head: Buffer }[] = [];
    for (const [i, port] of [gw1!, gw2!].entries())
      await listen(
        createServer((sock) => {
          let got = Buffer.alloc(0);
          sock.on('data', (d: Buffer) => {
            got = Buffer.concat([got, d]);
            // The header (16 bytes + its length), then the logger's first 6 bytes.
            if (got.length >= 16 && got.length >= 16 + got.readUInt16BE(14) + 6) {
              heads.push({ gw: i + 1, head: got });
              sock.end('ok');
            }
          });
        }),
        port,
      );
    await ready(ops1!, () => true);
    await ready(ops2!, () => true);
    const front = Number(new URL(requireEnv('OFFSITE_CLUSTER_GATEWAY_URL')).port);
    const stat = async () => cluster('haproxy', 'show stat');
    await until(
      async () => (await stat()).split('\n').filter((l) => /^gateways,gw\d,.*,UP,/.test(l)).length === 2,
      30_000,
      'both gateways UP',
    );
    const dial = () =>
      new Promise<number>((resolve, reject) => {
        let port = 0;
        const s = connect(front, '127.0.0.1', () => {
          port = s.localPort!;
          s.write('##0000');
        });
        s.on('data', () => s.end());
        s.on('close', () => resolve(port));
        s.on('error', reject);
      });
    const ports = [await dial(), await dial()];
    expect(heads).toHaveLength(2);
    const sig = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');
    for (const [i, { head }] of heads.entries()) {
      expect(head.subarray(0, 12)).toEqual(sig);
      expect(head[13]).toBe(0x11); // TCP over IPv4
      expect(head.subarray(16, 20)).toEqual(Buffer.from([127, 0, 0, 1])); // source address
      expect(head.readUInt16BE(24)).toBe(ports[i]); // source port: the logger's own
      expect(head.subarray(16 + head.readUInt16BE(14)).toString()).toBe('##0000');
    }

    await cluster('haproxy', 'disable server gateways/gw1');
    heads.length = 0;
    await dial();
    await dial();
    expect(heads.map((h) => h.gw)).toEqual([2, 2]);
    await cluster('haproxy', 'enable server gateways/gw1');
  }, 120_000);

  it('serves the console from either instance and keeps serving when one fails its readiness', async () => {
    const [c1, c2] = csv('OFFSITE_CLUSTER_CONSOLE_PORTS');
    const [ops1, ops2] = csv('OFFSITE_CLUSTER_CONSOLE_OPS_PORTS');
    let c1Ready = true;
    await listen(
      createHttpServer((_, res) => res.end('console1')),
      c1!,
    );
    await listen(
      createHttpServer((_, res) => res.end('console2')),
      c2!,
    );
    await ready(ops1!, () => c1Ready);
    await ready(ops2!, () => true);
    const url = requireEnv('OFFSITE_CLUSTER_CONSOLE_URL');
    const stat = async () => cluster('haproxy', 'show stat');
    await until(
      async () => (await stat()).split('\n').filter((l) => /^consoles,console\d,.*,UP,/.test(l)).length === 2,
      30_000,
      'both consoles UP',
    );
    // Both answer. Not necessarily in strict turns: HAProxy's weighted round robin places servers that just
    // came UP by its own positions (after the chaos run's instances came and went, console1 took four in a
    // row once), so the requests go on until both answered, at most 20.
    const seen = new Set<string>();
    for (let i = 0; i < 20 && seen.size < 2; i++) seen.add((await get(url)).body);
    expect([...seen].sort()).toEqual(['console1', 'console2']);
    c1Ready = false;
    await until(async () => /^consoles,console1,.*,DOWN,/m.test(await stat()), 30_000, 'console1 DOWN');
    const bodies = [];
    for (let i = 0; i < 4; i++) bodies.push(await get(url));
    expect(bodies.map((b) => `${b.status} ${b.body}`)).toEqual(Array(4).fill('200 console2'));
  }, 120_000);
});
