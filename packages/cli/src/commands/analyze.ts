/** `offsite analyze --registry FILE [INPUT…]`: the analyzer's rule engine run offline over capture files. */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { validateTelemetryV1 } from '@offsite/contracts';
import {
  createEngine,
  makeConfig,
  readingFromTelemetry,
  seenAt,
  type Output,
  type Reading,
} from '@offsite/domain';
import { toShanghaiIso } from '@offsite/domain/calendar';
import { decodePacket } from '@offsite/hj212';
import { normalizeHj212 } from '@offsite/normalize';
import { formatRegistryIssues, parseRegistryFile } from '@offsite/store';
import { EXIT_INPUT_PROBLEM, EXIT_OK, UsageError, type CliIo, type Command } from '../command.js';
import { openSource, packetLines } from '../input.js';
import { registryViewFromFile, type DeviceContext } from './analyze-registry.js';

const TIME_KEYS = new Set(['start', 'end', 'confirmedAt', 'lastAt', 'lastSeenAt', 'resumedAt']);

/** Evidence with its epoch-ms times shown in Asia/Shanghai. */
function showTimes(v: unknown, key = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => showTimes(x));
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, showTimes(x, k)]));
  if (typeof v === 'number' && TIME_KEYS.has(key)) return toShanghaiIso(v);
  return v;
}

/** The JSON line printed for one engine output (documented in docs/cli-analyze.md). */
export function outputLine(o: Output): Record<string, unknown> | undefined {
  if (o.type === 'aggregate') {
    return {
      type: 'aggregate',
      enterprise: o.enterpriseId,
      site: o.siteId,
      factor: o.factor,
      interval: o.interval,
      start: toShanghaiIso(o.start),
      value: o.value,
      convertedValue: o.convertedValue,
      valid: o.valid,
      flag: o.flag,
      coverage: o.coverage,
      ...(o.anomaly !== undefined ? { anomaly: o.anomaly } : {}),
    };
  }
  if (o.type === 'deviation') {
    return {
      type: 'deviation',
      id: o.id,
      rule: o.rule,
      state: o.state,
      revision: o.revision,
      severity: o.severity,
      enterprise: o.enterpriseId,
      site: o.siteId,
      ...(o.factor !== undefined ? { factor: o.factor } : {}),
      subject: o.subject,
      windowStart: toShanghaiIso(o.windowStart),
      windowEnd: o.windowEnd !== undefined ? toShanghaiIso(o.windowEnd) : null,
      suspectedFalsification: o.suspectedFalsification,
      inResumptionWindow: o.inResumptionWindow,
      evidence: showTimes(o.evidence),
    };
  }
  return undefined;
}

type LineResult =
  { ok: true; reading: Reading } | { ok: false; skip?: boolean; code: string; message: string };

/** One input line: an HJ 212 packet (`##…`) or a telemetry.v1 JSON object (`{…`). */
export function readLine(
  text: string,
  devices: ReadonlyMap<string, DeviceContext>,
  strict: boolean,
): LineResult {
  if (text.startsWith('##')) {
    const decoded = decodePacket(text, { policy: strict ? 'strict' : 'tolerant' });
    if (!decoded.ok) return { ok: false, code: decoded.error.code, message: decoded.error.message };
    const p = decoded.packet;
    const device = devices.get(p.mn);
    if (!device) return { ok: false, code: 'unknown-mn', message: `MN ${p.mn} is not in the registry` };
    const n = normalizeHj212(p, {
      ...device,
      deviceId: p.mn,
      receivedAt: p.dataTimeUtc ?? new Date(0).toISOString(),
    });
    if (!n.ok) return { ok: false, skip: n.kind === 'not-telemetry', code: n.reason, message: n.message };
    return { ok: true, reading: readingFromTelemetry(n.event) };
  }
  if (text.trimStart().startsWith('{')) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      return { ok: false, code: 'not-json', message: (err as Error).message };
    }
    const v = validateTelemetryV1(data);
    if (!v.ok) return { ok: false, code: 'schema-invalid', message: v.errors.join('; ') };
    return { ok: true, reading: readingFromTelemetry(v.value) };
  }
  return {
    ok: false,
    code: 'unknown-line',
    message: 'neither an HJ 212 packet (##…) nor telemetry JSON ({…})',
  };
}

interface AnalyzeArgs {
  registry: string;
  inputs: string[];
  latenessMs: number;
  until: number | undefined;
  strict: boolean;
}

function parseAnalyzeArgs(args: readonly string[]): AnalyzeArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        registry: { type: 'string' },
        lateness: { type: 'string' },
        until: { type: 'string' },
        strict: { type: 'boolean' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (cause) {
    throw new UsageError(cause instanceof Error ? cause.message : String(cause), { cause });
  }
  const { registry, lateness, until, strict } = parsed.values;
  if (!registry) throw new UsageError('--registry FILE is required');
  const minutes = lateness === undefined ? 10 : Number(lateness);
  if (!Number.isFinite(minutes) || minutes < 0)
    throw new UsageError(`--lateness must be minutes ≥ 0, got ${lateness}`);
  const untilMs = until === undefined ? undefined : Date.parse(until);
  if (untilMs !== undefined && !Number.isFinite(untilMs))
    throw new UsageError(`--until must be an ISO 8601 time, got ${until}`);
  return {
    registry,
    inputs: parsed.positionals.length > 0 ? parsed.positionals : ['-'],
    latenessMs: minutes * 60_000,
    until: untilMs,
    strict: strict ?? false,
  };
}

export const analyzeCommand: Command = {
  path: ['analyze'],
  summary: 'run the rule engine offline: aggregates and deviations as JSON lines',
  usage: [
    'Usage: offsite analyze --registry FILE [INPUT…|-] [--lateness MIN] [--until TIME] [--strict]',
    '',
    'Reads HJ 212 packets (one per line) and/or telemetry.v1 JSON lines from the INPUT files (or',
    'standard input), in order, through the same rule engine as the analyzer service, and prints one',
    'JSON object per output: {"type":"aggregate",…} for closed hourly/daily windows and',
    '{"type":"deviation",…} for every deviation event (opened / updated / resolved). Times are',
    'shown in Asia/Shanghai (+08:00). The registry file format is described in registry/README.md.',
    '  --registry FILE  the registry (YAML or JSON): outlets, devices (MN), limits, meters',
    '  --lateness MIN   the watermark trails the latest data time by MIN minutes (default 10)',
    '  --until TIME     advance to TIME at the end (default: the end of the last reading)',
    '  --strict         reject every HJ 212 irregularity (default: accept them)',
    'Lines that cannot be read are reported on standard error ("FILE:LINE: code: message").',
    'Exit code: 0 every line was used, 1 some line was rejected, 2 usage or registry error.',
  ].join('\n'),
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const a = parseAnalyzeArgs(args);
    let text: string;
    try {
      text = await readFile(a.registry, 'utf8');
    } catch (cause) {
      throw new UsageError(`cannot read the registry ${a.registry}`, { cause });
    }
    const parsed = parseRegistryFile(text, a.registry.toLowerCase().endsWith('.json') ? 'json' : 'yaml');
    if (!parsed.ok)
      throw new UsageError(`invalid registry ${a.registry}:\n${formatRegistryIssues(parsed.issues)}`);
    const { view, devices } = registryViewFromFile(parsed.registry);
    const config = makeConfig();
    const engine = createEngine(config, view);
    let problems = 0;
    let maxSeen: number | undefined;
    const emit = (outputs: Output[], where: string) => {
      for (const o of outputs) {
        if (o.type === 'rejected') {
          problems++;
          io.stderr.write(`${where}: ${o.code}: ${o.message}\n`);
          continue;
        }
        const line = outputLine(o);
        if (line) io.stdout.write(`${JSON.stringify(line)}\n`);
      }
    };
    for (const input of a.inputs) {
      const stream = await openSource(input, io.stdin);
      for await (const { lineNo, text: line } of packetLines(stream)) {
        const where = `${input}:${lineNo}`;
        const r = readLine(line, devices, a.strict);
        if (!r.ok) {
          if (r.skip) continue; // valid, but carries no readings (e.g. a heartbeat or a reply)
          problems++;
          io.stderr.write(`${where}: ${r.code}: ${r.message}\n`);
          continue;
        }
        emit(engine.ingest(r.reading), where);
        const end = seenAt(r.reading, config);
        if (maxSeen === undefined || end > maxSeen) maxSeen = end;
        // The same watermark policy as the service: event time minus the allowed lateness, after every reading.
        emit(engine.advance(maxSeen - a.latenessMs), where);
      }
    }
    const final = a.until ?? maxSeen;
    if (final !== undefined) emit(engine.advance(final), 'end');
    return problems > 0 ? EXIT_INPUT_PROBLEM : EXIT_OK;
  },
};
