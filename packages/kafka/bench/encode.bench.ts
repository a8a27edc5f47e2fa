/**
 * What the KafkaJS fast paths save on the produce path: CPU per message to group a batch by partition and
 * encode its Produce v7 request (what the producer does per request), with the fast paths installed and with
 * KafkaJS as it ships, in alternating child processes of the same run (the baseline). Prints the load
 * average with the results.
 *
 * Usage: node --conditions=offsite-source --import tsx packages/kafka/bench/encode.bench.ts
 *          [--messages 1700] [--partitions 6] [--requests 400] [--pairs 3]
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { installKafkajsFastPaths, kafkajsFastPaths, memoisedDefaultPartitioner } from '../src/index.js';
import { telemetry } from '../test/telemetry-batch.js';

const { values: args } = parseArgs({
  options: {
    child: { type: 'string' },
    messages: { type: 'string', default: '1700' },
    partitions: { type: 'string', default: '6' },
    requests: { type: 'string', default: '400' },
    pairs: { type: 'string', default: '3' },
  },
});
const messages = Number(args.messages);
const partitions = Number(args.partitions);
const requests = Number(args.requests);

type Group = (a: {
  topic: string;
  partitionMetadata: unknown[];
  messages: unknown[];
  partitioner: unknown;
}) => Record<number, unknown[]>;
type Produce = {
  protocol(v: { version: number }): (a: unknown) => { request: { encode(): Promise<unknown> } };
};

async function child(mode: 'fast' | 'original'): Promise<void> {
  if (mode === 'fast') installKafkajsFastPaths();
  const require = createRequire(import.meta.url);
  const group = require('kafkajs/src/producer/groupMessagesPerPartition.js') as Group;
  const produce = require('kafkajs/src/protocol/requests/produce/index.js') as Produce;
  const partitioner = memoisedDefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    leader: 0,
  }));
  const batch = Array.from({ length: messages }, (_, i) => telemetry(i, 300));
  const once = async () => {
    const byPartition = group({ topic: 'telemetry.v1', partitionMetadata, messages: batch, partitioner });
    const topicData = [
      {
        topic: 'telemetry.v1',
        partitions: Object.entries(byPartition).map(([p, m]) => ({
          partition: Number(p),
          firstSequence: 0,
          messages: m,
        })),
      },
    ];
    await produce
      .protocol({ version: 7 })({ acks: -1, timeout: 30_000, compression: 0, topicData })
      .request.encode();
  };
  for (let i = 0; i < Math.max(20, requests / 10); i++) await once(); // warm-up
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < requests; i++) await once();
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  const n = requests * messages;
  console.log(
    JSON.stringify({
      mode,
      fast: kafkajsFastPaths(),
      cpuUsPerMessage: (cpu.user + cpu.system) / n,
      wallUsPerMessage: (wallMs * 1000) / n,
    }),
  );
}

if (args.child === 'fast' || args.child === 'original') await child(args.child);
else {
  const load0 = loadavg();
  const runs: { mode: string; cpuUsPerMessage: number; wallUsPerMessage: number }[] = [];
  for (let i = 0; i < Number(args.pairs); i++)
    for (const mode of ['original', 'fast'])
      runs.push(
        JSON.parse(
          execFileSync(
            process.execPath,
            [
              '--conditions=offsite-source',
              '--import',
              'tsx',
              fileURLToPath(import.meta.url),
              '--child',
              mode,
              '--messages',
              String(messages),
              '--partitions',
              String(partitions),
              '--requests',
              String(requests),
            ],
            { encoding: 'utf8' },
          ),
        ) as (typeof runs)[number],
      );
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const of = (mode: string) => {
    const r = runs.filter((x) => x.mode === mode);
    return { cpu: median(r.map((x) => x.cpuUsPerMessage)), wall: median(r.map((x) => x.wallUsPerMessage)) };
  };
  const original = of('original');
  const fast = of('fast');
  const f = (x: number) => x.toFixed(2);
  console.log(
    `group + encode Produce v7, ${messages} telemetry events over ${partitions} partitions, ${requests} requests per run, ` +
      `median of ${args.pairs} alternating runs each`,
  );
  console.log(
    `  KafkaJS as it ships (baseline): ${f(original.cpu)} µs CPU/message (${f(original.wall)} µs wall)`,
  );
  console.log(`  with the fast paths:            ${f(fast.cpu)} µs CPU/message (${f(fast.wall)} µs wall)`);
  console.log(
    `  ratio fast / baseline: CPU ${f(fast.cpu / original.cpu)}, wall ${f(fast.wall / original.wall)}`,
  );
  console.log(`  load average before ${load0.map(f).join(' ')}, after ${loadavg().map(f).join(' ')}`);
}
