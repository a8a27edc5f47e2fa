/**
 * Writes the demo day's readings as a fixture for the domain's representation tests (packages/domain/src/packed.test.ts):
 *   node --conditions=offsite-source --import tsx scripts/demo-day-fixture.ts [--out packages/domain/test/fixtures/demo-day.json.gz]
 * The simulator runs the demo's registry (registry/demo.yaml) over its day, 2026-11-28 Asia/Shanghai, with the demo's
 * seed and five scenarios, as `npm run demo` does; every HJ 212 upload of the enterprises of the exceedance, flat-line
 * and offline scenarios is encoded, decoded
 * and normalised as the hj212-gateway does, and its reading (the analyzer's `readingFromTelemetry`) kept. Written as a
 * gzip'd readings part in the compact checkpoint format (packages/domain/src/checkpoint-format.ts). Deterministic:
 * the same file every run. The meters' MQTT readings are not included (the representation tests are about the
 * loggers' series).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { encodePart, readingFromTelemetry, type Reading } from '@offsite/domain';
import { createSm4EcbCipher, decodePacket, encodePacket } from '@offsite/hj212';
import { normalizeHj212 } from '@offsite/normalize';
import { createSimulation, parseRegistryText, planRun } from '@offsite/simulator';

const { values } = parseArgs({
  options: { out: { type: 'string', default: 'packages/domain/test/fixtures/demo-day.json.gz' } },
});
const DAY = Date.parse('2026-11-28T00:00:00+08:00');
const SEED = 212; // OFFSITE_SIM_SEED's default, as in the demo
const SCENARIOS = ['treatment-off', 'exceedance', 'flatline', 'offline', 'maintenance'] as const;

const registry = parseRegistryText(readFileSync('registry/demo.yaml', 'utf8'), 'registry/demo.yaml');
const plan = planRun(registry, 0, DAY, SCENARIOS);
/** The enterprises of the loggers' scenarios (the treatment-off and maintenance ones are about meters and windows). */
const enterprises = new Set(
  plan.scenarios
    .filter((s) => ['exceedance', 'flatline', 'offline'].includes(s.kind))
    .map((s) => s.enterpriseId),
);
const loggers = new Map(
  plan.fleet.loggers.filter((l) => enterprises.has(l.enterpriseId)).map((l) => [l.mn, l]),
);
const sim = createSimulation({ fleet: plan.fleet, scenarios: plan.scenarios, seed: SEED, start: DAY });
const readings: Reading[] = [];
let rejected = 0;
for (const o of sim.advanceTo(DAY + 24 * 3_600_000)) {
  if (o.kind !== 'hj212') continue;
  const logger = loggers.get(o.mn);
  if (!logger) continue;
  const cipher = logger.sm4Key ? createSm4EcbCipher(logger.sm4Key) : undefined;
  const decoded = decodePacket(encodePacket(o.packet, cipher ? { cipher } : {}), { cipherFor: () => cipher });
  if (!decoded.ok) throw new Error(`${o.mn}: ${decoded.error.code} ${decoded.error.message}`);
  const n = normalizeHj212(decoded.packet, {
    enterpriseId: logger.enterpriseId,
    siteId: logger.outletId,
    deviceId: logger.mn,
    minuteIntervalS: logger.minuteIntervalS,
    receivedAt: new Date(o.sentAt).toISOString(),
  });
  if (n.ok) readings.push(readingFromTelemetry(n.event));
  else if (n.kind !== 'not-telemetry') rejected++;
}
const bytes = gzipSync(JSON.stringify(encodePart(readings)), { level: 9 });
writeFileSync(values.out, bytes);
console.log(
  `${readings.length} readings of ${loggers.size} loggers (${[...enterprises].join(', ')}; ${rejected} rejected) → ` +
    `${values.out}, ${bytes.length} bytes`,
);
