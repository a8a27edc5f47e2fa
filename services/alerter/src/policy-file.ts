// The policy file (YAML or JSON): the AlertPolicy with human durations ("90s", "15m", "2h", "3d").
import { readFile } from 'node:fs/promises';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { OffsiteError } from '@offsite/runtime/errors';
import { parse as parseYaml } from 'yaml';
import type { AlertPolicy, PolicyEntry } from './policy.js';

const Duration = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^\\d+(ms|s|m|h|d)$' })]);
const HHMM = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' });
const Role = Type.Union([
  Type.Literal('legal'),
  Type.Literal('env-manager'),
  Type.Literal('operator'),
  Type.Literal('contact'),
]);
const Entry = Type.Object(
  {
    name: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9_-]+$' }),
    match: Type.Object(
      {
        rules: Type.Optional(Type.Array(Type.String())),
        severities: Type.Optional(Type.Array(Type.String())),
        classes: Type.Optional(Type.Array(Type.String())),
        falsification: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false },
    ),
    enterpriseRoles: Type.Array(Role),
    districtOfficers: Type.Boolean(),
    citySupervisors: Type.Boolean(),
    channels: Type.Array(
      Type.Union([
        Type.Literal('email'),
        Type.Literal('sms'),
        Type.Literal('wechat'),
        Type.Literal('outbox'),
      ]),
      {
        minItems: 1,
      },
    ),
    repeat: Type.Object(
      { interval: Duration, maxCount: Type.Integer({ minimum: 1 }) },
      { additionalProperties: false },
    ),
    escalateAfter: Type.Optional(Duration),
    resolutionNotice: Type.Boolean(),
    urgent: Type.Boolean(),
  },
  { additionalProperties: false },
);
export const PolicyFile = Type.Object(
  {
    bureau: Type.Object({ zh: Type.String(), en: Type.String() }, { additionalProperties: false }),
    groupWait: Duration,
    quietHours: Type.Optional(Type.Object({ start: HHMM, end: HHMM }, { additionalProperties: false })),
    ackTtl: Duration,
    inhibitedByOffline: Type.Array(Type.String()),
    entries: Type.Array(Entry, { minItems: 1 }),
  },
  { additionalProperties: false },
);
export type PolicyFileContent = Static<typeof PolicyFile>;

const UNIT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function durationMs(d: number | string): number {
  if (typeof d === 'number') return d;
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(d)!;
  return Number(m[1]) * UNIT[m[2]!]!;
}

/** Validates a parsed policy document and converts it; every problem at once in one error. */
export function policyFromDocument(doc: unknown, source = 'policy'): AlertPolicy {
  // Officers and supervisors are the console's users; a list of people without an account is refused by name.
  if (doc !== null && typeof doc === 'object' && 'staff' in doc)
    throw new OffsiteError(
      'ALERTER_POLICY_INVALID',
      `Invalid policy in ${source}:\n  - /staff: not allowed: district officers and city supervisors who receive alerts are the console's users (role, district, on duty, email or phone); add them on the console's users page and remove \`staff\``,
      { retryable: false },
    );
  if (!Value.Check(PolicyFile, doc)) {
    const problems = [...Value.Errors(PolicyFile, doc)]
      .slice(0, 20)
      .map((e) => `  - ${e.path || '/'}: ${e.message}`);
    throw new OffsiteError('ALERTER_POLICY_INVALID', `Invalid policy in ${source}:\n${problems.join('\n')}`, {
      retryable: false,
    });
  }
  const names = new Set<string>();
  for (const e of doc.entries) {
    if (names.has(e.name))
      throw new OffsiteError('ALERTER_POLICY_INVALID', `Invalid policy in ${source}: entry ${e.name} twice`);
    names.add(e.name);
  }
  return {
    bureau: doc.bureau,
    groupWaitMs: Math.max(1, durationMs(doc.groupWait)),
    ...(doc.quietHours ? { quietHours: doc.quietHours } : {}),
    ackTtlMs: durationMs(doc.ackTtl),
    inhibitedByOffline: doc.inhibitedByOffline,
    entries: doc.entries.map((e): PolicyEntry => ({
      name: e.name,
      match: e.match,
      enterpriseRoles: e.enterpriseRoles,
      districtOfficers: e.districtOfficers,
      citySupervisors: e.citySupervisors,
      channels: e.channels,
      repeat: { intervalMs: durationMs(e.repeat.interval), maxCount: e.repeat.maxCount },
      ...(e.escalateAfter !== undefined ? { escalateAfterMs: durationMs(e.escalateAfter) } : {}),
      resolutionNotice: e.resolutionNotice,
      urgent: e.urgent,
    })),
  };
}

export async function readPolicyFile(path: string): Promise<AlertPolicy> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new OffsiteError('ALERTER_POLICY_UNREADABLE', `cannot read policy file ${path}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new OffsiteError('ALERTER_POLICY_INVALID', `policy file ${path} does not parse`, { cause: err });
  }
  return policyFromDocument(doc, path);
}
