/**
 * Sends one produce request per Produce version KafkaJS can speak from v3 (v3–v7) straight to a broker,
 * encoded by the fast paths as a service process has them (installed before KafkaJS loads), and prints
 * what the broker answered. Run by `produce-versions.int.test.ts` in a plain Node process, the way a
 * service runs.
 *
 * Usage: node --conditions=offsite-source --import tsx test/produce-versions.ts <host:port> <topic>
 * Prints one JSON line: { fast, produce: [min, max] | null, results: [{ version, errorCode, baseOffset, error }] }.
 */
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';
import { installKafkajsFastPaths } from '../src/index.js';

const fast = installKafkajsFastPaths();
const require = createRequire(import.meta.url);
type Encoded = { buffer: Buffer };
type Request = { apiKey: number; apiVersion: number; encode: () => Promise<Encoded> | Encoded };
type Response = { decode: (b: Buffer) => Promise<unknown>; parse: (d: unknown) => Promise<unknown> };
const frame = require('kafkajs/src/protocol/request.js') as (a: {
  correlationId: number;
  clientId: string;
  request: Request;
}) => Promise<Encoded>;
const apiVersions = require('kafkajs/src/protocol/requests/apiVersions/index.js') as {
  protocol: (a: { version: number }) => () => { request: Request; response: Response };
};
const produce = require('kafkajs/src/protocol/requests/produce/index.js') as {
  protocol: (a: { version: number }) => (args: unknown) => { request: Request; response: Response };
};

/** One request/response exchange on a fresh connection (the size-prefixed frames of the Kafka protocol). */
async function exchange(broker: string, correlationId: number, request: Request): Promise<Buffer> {
  const [host, port] = [broker.replace(/:\d+$/, ''), Number(broker.replace(/^.*:/, ''))];
  const framed = await frame({ correlationId, clientId: 'offsite-produce-versions', request });
  const socket: Socket = connect({ host, port });
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      let got = Buffer.alloc(0);
      socket.on('error', reject);
      socket.on('close', () => reject(new Error('the broker closed the connection (request refused)')));
      socket.on('data', (chunk: Buffer) => {
        got = Buffer.concat([got, chunk]);
        if (got.length >= 4 && got.length >= 4 + got.readInt32BE(0)) {
          const id = got.readInt32BE(4);
          if (id !== correlationId) reject(new Error(`correlation id ${id}, expected ${correlationId}`));
          // Produce v3–v7 and ApiVersions v0 have the v0 response header: the correlation id only.
          resolve(got.subarray(8, 4 + got.readInt32BE(0)));
        }
      });
      socket.write(framed.buffer);
    });
  } finally {
    socket.destroy();
  }
}

const [broker, topic] = process.argv.slice(2);
if (!broker || !topic) throw new Error('usage: produce-versions.ts <host:port> <topic>');

const av = apiVersions.protocol({ version: 0 })();
const versions = (await av.response.parse(
  await av.response.decode(await exchange(broker, 1, av.request)),
)) as { apiVersions: { apiKey: number; minVersion: number; maxVersion: number }[] };
const range = versions.apiVersions.find((a) => a.apiKey === 0);

const results = [];
for (const version of [3, 4, 5, 6, 7]) {
  const messages = Array.from({ length: 3 }, (_, i) => ({
    key: `v${version}-k${i}`,
    value: JSON.stringify({ version, i, text: '非现场监管' }),
    timestamp: Date.now(),
  }));
  const { request, response } = produce.protocol({ version })({
    acks: -1,
    timeout: 10_000,
    compression: 0,
    topicData: [{ topic, partitions: [{ partition: 0, firstSequence: 0, messages }] }],
  });
  try {
    const data = (await response.parse(
      await response.decode(await exchange(broker, 100 + version, request)),
    )) as { topics: { partitions: { errorCode: number; baseOffset: string }[] }[] };
    const p = data.topics[0]!.partitions[0]!;
    results.push({ version, errorCode: p.errorCode, baseOffset: p.baseOffset, error: null });
  } catch (e) {
    results.push({ version, errorCode: null, baseOffset: null, error: (e as Error).message });
  }
}
console.log(
  JSON.stringify({
    fast,
    produce: range ? [range.minVersion, range.maxVersion] : null,
    results,
  }),
);
