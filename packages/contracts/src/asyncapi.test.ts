import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Parser, fromFile } from '@asyncapi/parser';
import type { AsyncAPIDocumentInterface, Diagnostic, SchemaParser } from '@asyncapi/parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { kafkaTopics, mqttTopics, schemaIds, upstreamFeedTopics } from './index.js';

const schemasDir = fileURLToPath(new URL('../../../schemas/', import.meta.url));
const SCHEMA_FORMAT = 'application/schema+json;version=2020-12';

/** Compiles a payload schema with Ajv 2020; returns the problem, or undefined when it is valid. */
function problemWith(schema: unknown): string | undefined {
  try {
    new Ajv2020({ strict: false, validateFormats: false }).compile(schema as object);
    return undefined;
  } catch (err) {
    return `invalid JSON Schema 2020-12: ${(err as Error).message}`;
  }
}

/**
 * The parser knows draft-07 only; payloads here are 2020-12, so check them with Ajv 2020 instead.
 * Parser 3.6 does not call validate() for AsyncAPI 3 documents, only parse(), so parse() checks too.
 */
const jsonSchema2020: SchemaParser = {
  getMimeTypes: () => [SCHEMA_FORMAT],
  validate: (input) => {
    const problem = problemWith(input.data);
    return problem ? [{ message: problem, path: input.path }] : [];
  },
  parse: (input) => {
    const problem = problemWith(input.data);
    if (problem) throw new Error(`${input.path.join('.')}: ${problem}`);
    return input.data as never;
  },
};

function newParser(): Parser {
  const parser = new Parser();
  parser.registerSchemaParser(jsonSchema2020);
  return parser;
}

const errorsIn = (diagnostics: Diagnostic[]) =>
  diagnostics.filter((d) => d.severity === 0).map((d) => `${d.path.join('.')}: ${d.message}`);

let doc: AsyncAPIDocumentInterface;
let diagnostics: Diagnostic[];

beforeAll(async () => {
  const result = await fromFile(newParser(), `${schemasDir}asyncapi.yaml`).parse();
  diagnostics = result.diagnostics;
  if (!result.document) throw new Error(`asyncapi.yaml did not parse:\n${errorsIn(diagnostics).join('\n')}`);
  doc = result.document;
}, 30_000);

test('asyncapi.yaml is a valid AsyncAPI 3.0 document with no errors or warnings', () => {
  expect(doc.version()).toBe('3.0.0');
  expect(errorsIn(diagnostics)).toEqual([]);
  // Severity 1 = warning; the only tolerated hint is "a newer AsyncAPI version exists".
  expect(diagnostics.filter((d) => d.severity === 1).map((d) => d.message)).toEqual([]);
});

test('every Kafka topic in the catalog is a channel with the same partitions, schema and key', () => {
  const fromDoc = doc
    .channels()
    .all()
    .filter((c) => c.bindings().has('kafka'))
    .map((c) => {
      const binding = c.bindings().get('kafka')?.value() as { topic: string; partitions: number };
      const [message, ...others] = c.messages().all();
      expect(others).toHaveLength(0);
      const key = message?.bindings().get('kafka')?.value() as { key?: { description?: string } } | undefined;
      return {
        name: c.address(),
        bindingTopic: binding.topic,
        partitions: binding.partitions,
        schemaId: message?.payload()?.id(),
        keyField: key?.key?.description,
      };
    })
    .sort((a, b) => String(a.name).localeCompare(String(b.name)));
  const fromCatalog = Object.values(kafkaTopics)
    .map((t) => ({
      name: t.name,
      bindingTopic: t.name,
      partitions: t.partitions,
      schemaId: t.schemaId,
      keyField: t.keyField,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  expect(fromDoc).toEqual(fromCatalog);
  expect(fromCatalog.map((t) => t.name)).toEqual([
    'complaint.intake.v1',
    'deviation.v1',
    'hj212.command.v1',
    'hj212.raw.v1',
    'message.request.v1',
    'notification.v1',
    'review.decision.v1',
    'telemetry.dlq.v1',
    'telemetry.late.v1',
    'telemetry.v1',
    'video-alarm.v1',
  ]);
});

test('the upstream feed channel matches the catalog pattern and carries HJ 212 frames or telemetry.v1', () => {
  const channel = doc.channels().get('upstreamFeed');
  expect(channel?.address()).toBe(upstreamFeedTopics.address);
  expect(upstreamFeedTopics.pattern.test(upstreamFeedTopics.name('provincial-cems'))).toBe(true);
  expect(upstreamFeedTopics.pattern.test('telemetry.v1')).toBe(false);
  expect(() => upstreamFeedTopics.name('Bad Feed')).toThrow(/invalid upstream feed name/);
  const payloads = channel
    ?.messages()
    .all()
    .map((m) => (m.payload()?.type() === 'string' ? 'string' : m.payload()?.id()));
  expect(payloads).toEqual(['string', schemaIds['telemetry.v1']]);
});

test('MQTT channels match the catalog addresses and payload schemas', () => {
  const fromDoc = doc
    .channels()
    .all()
    .filter((c) =>
      c
        .servers()
        .all()
        .some((s) => s.protocol() === 'mqtt'),
    )
    .map((c) => {
      const payload = c.messages().all()[0]?.payload();
      return { address: c.address(), schemaId: payload?.type() === 'string' ? null : payload?.id() };
    })
    .sort((a, b) => String(a.address).localeCompare(String(b.address)));
  const fromCatalog = Object.values(mqttTopics)
    .map((t) => ({ address: t.address, schemaId: t.schema === null ? null : schemaIds[t.schema] }))
    .sort((a, b) => a.address.localeCompare(b.address));
  expect(fromDoc).toEqual(fromCatalog);
});

test('every schema file is referenced by some message, and every message schema is a known file', () => {
  const files = readdirSync(schemasDir)
    .filter((f) => f.endsWith('.schema.json'))
    .map((f) => f.slice(0, -'.schema.json'.length))
    .sort();
  expect(Object.keys(schemaIds).sort()).toEqual(files);
  const referenced = new Set(
    doc
      .allMessages()
      .all()
      .map((m) => m.payload()?.id())
      .filter((id): id is string => typeof id === 'string' && id.startsWith('https://')),
  );
  expect([...referenced].sort()).toEqual(Object.values(schemaIds).sort());
});

test('the 2020-12 schema parser rejects an invalid payload schema (the check above can fail)', async () => {
  const broken = `
asyncapi: 3.0.0
info: { title: t, version: 1.0.0 }
channels:
  c:
    address: c.v1
    messages:
      m:
        payload:
          schemaFormat: ${SCHEMA_FORMAT}
          schema: { type: objekt }
`;
  const result = await newParser().parse(broken);
  expect(errorsIn(result.diagnostics).join('\n')).toMatch(/invalid JSON Schema 2020-12/);
});
