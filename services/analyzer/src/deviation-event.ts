// Domain deviation output → deviation.v1 event (the contract's rule and severity vocabularies differ).
import type { DeviationEvidence, DeviationV1, EvidenceValue } from '@offsite/contracts';
import {
  contractRuleOf,
  crossDeviceText,
  peersText,
  videoAlarmText,
  productionEmissionText,
  severityToContract,
  type DeviationOutput,
  type RuleName,
} from '@offsite/domain';

const STATS = new Set<EvidenceValue['stat']>([
  'Rtd',
  'Min',
  'Avg',
  'Max',
  'Cou',
  'ZsRtd',
  'ZsMin',
  'ZsAvg',
  'ZsMax',
  'RS',
  'RT',
  'Value',
]);

const iso = (ms: number): string => new Date(ms).toISOString();
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

const SUMMARIES: Record<RuleName, string> & Record<string, string> = {
  exceedance: 'valid mean above the permit limit',
  'treatment-idle': 'treatment facility idle while production runs',
  'treatment-late-start': 'treatment facility started late after production',
  'treatment-early-stop': 'treatment facility stopped before production',
  flatline: 'the same value repeated for too long (constant value)',
  'zero-while-running': 'zero value while the outlet has flow',
  'out-of-range': 'value negative, above the instrument range or flagged T',
  offline: 'no data from the device',
  'low-capture': 'hourly capture rate below the minimum',
  'fault-flag': 'fault or communication-fault flags (D/B) for too long',
  'manual-flag': 'manually set value (flag S) on a monitored pollutant',
  'maintenance-overrun': 'maintenance flag (M) outside the declared maintenance window',
  'o2-near-ambient': 'O2 near ambient while pollutants are reported',
  'clustered-below-limit': 'hourly means clustered just below the limit',
  'inconsistent-aggregate': 'reported aggregate differs from the recomputed one',
  'annual-load': 'year-to-date load ahead of the permitted annual load pro rata',
  'production-emission': 'emissions out of line with the production energy',
  peers: 'far off the outlets of the same process',
  'cross-device': 'readings of one stack that cannot all be true (cross-device consistency)',
  'remote-sensing': 'a remote-sensing detection where the registry expects no emission',
  'discharge-outside-hours': 'discharge outside permitted hours seen on video',
};

/** The annual-load figures: year-to-date, pro-rata share and permit in kg, as of a Shanghai time. */
function annualLoadFigures(e: Record<string, unknown>): string {
  const kg = (v: unknown) => (typeof v === 'number' ? `${v} kg` : '–');
  return ` (${kg(e.ytdKg)} by ${String(e.asOfText)} Asia/Shanghai; pro rata ${kg(e.proRataKg)}; permit ${kg(e.permitKg)})`;
}

/** Values of the windows that triggered the deviation (hourly/daily means with their limit). */
function evidenceValues(d: DeviationOutput): EvidenceValue[] {
  const windows = Array.isArray(d.evidence.windows) ? (d.evidence.windows as Record<string, unknown>[]) : [];
  const out: EvidenceValue[] = [];
  for (const w of windows) {
    const start = num(w.start);
    const value = num(w.value);
    if (start === undefined || value === undefined) continue;
    const limit = num(w.limit);
    const stat = typeof w.stat === 'string' && STATS.has(w.stat as EvidenceValue['stat']) ? w.stat : 'Avg';
    out.push({
      time: iso(start),
      factor: d.factor ?? d.subject,
      stat: stat as EvidenceValue['stat'],
      value,
      ...(limit !== undefined ? { limit } : {}),
    });
    if (out.length >= 2000) break;
  }
  const single = num(d.evidence.value);
  if (out.length === 0 && single !== undefined && d.factor !== undefined) {
    const at = num(d.evidence.confirmedAt) ?? d.windowStart;
    out.push({ time: iso(at), factor: d.factor, stat: 'Value', value: single });
  }
  return out;
}

function summary(d: DeviationOutput): string {
  const exceeded = d.rule === 'annual-load' && d.evidence.state === 'exceeded';
  const what = exceeded ? 'year-to-date load above the permitted annual load' : SUMMARIES[d.rule];
  const where = d.factor ? `${d.siteId} ${d.factor}` : `${d.siteId} ${d.subject}`;
  const retracted = d.evidence.retracted === true ? ' (retracted: later data no longer support it)' : '';
  const figures =
    d.rule === 'annual-load'
      ? annualLoadFigures(d.evidence)
      : d.rule === 'production-emission'
        ? ` (${productionEmissionText(d.evidence)})`
        : d.rule === 'peers'
          ? ` (${peersText(d.evidence)})`
          : d.rule === 'cross-device'
            ? ` (${crossDeviceText(d.evidence)})`
            : d.rule === 'remote-sensing'
              ? ` (${String(d.evidence.en)})`
              : d.rule === 'discharge-outside-hours'
                ? ` (${videoAlarmText(d.evidence)})`
                : '';
  return `${what}: ${where}${figures}${retracted}`;
}

/**
 * A copy with every object's keys in sorted order. The engine's evidence objects are built in an order
 * that depends on their history (a checkpoint round trip drops keys whose value is undefined, and a later
 * update appends them again): a replay must emit the same bytes for an (id, revision), not only equal values.
 */
function sortedKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => sortedKeys(v)) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) out[k] = sortedKeys((value as Record<string, unknown>)[k]);
  return out as T;
}

/** The deviation.v1 event for one engine output; `emittedAt` is the wall clock. */
export function deviationEvent(d: DeviationOutput, emittedAt: number): DeviationV1 {
  const confirmedAt = num(d.evidence.confirmedAt);
  const evidence: DeviationEvidence = {
    summary: summary(d),
    values: evidenceValues(d),
    params: sortedKeys({ ...d.evidence, domainRule: d.rule, domainSeverity: d.severity, subject: d.subject }),
  };
  const end = d.windowEnd ?? d.windowStart;
  return {
    schema: 'deviation.v1',
    id: d.id,
    rule: contractRuleOf(d.rule),
    state: d.state,
    revision: d.revision,
    severity: severityToContract[d.severity],
    enterpriseId: d.enterpriseId,
    siteId: d.siteId,
    ...(d.factor !== undefined ? { factor: d.factor } : {}),
    windowStart: iso(d.windowStart),
    ...(d.windowEnd !== undefined ? { windowEnd: iso(d.windowEnd) } : {}),
    openedAt: iso(confirmedAt ?? d.windowStart),
    ...(d.state === 'resolved' ? { resolvedAt: iso(end) } : {}),
    suspectedFalsification: d.suspectedFalsification,
    inResumptionWindow: d.inResumptionWindow,
    evidence,
    emittedAt: iso(emittedAt),
  };
}
