// The device and meter window rules (domain-rules §3): low capture per device and hour, treatment idle while
// producing per 15-minute window, treatment started late / stopped early per step. The Evaluator and the workspace
// compute the windows' inputs their own way (whole buffer, cached windows) and judge them here.
import type { RulesConfig } from './config.js';
import type { WindowFact } from './episodes.js';
import type { DeviceView, MeterView } from './model.js';
import { inResumptionWindow, type RegistryIndex } from './registry.js';
import type { EpisodeOut, RuleScope, SectionInput } from './scope.js';
import { HOUR_MS, MINUTE_MS, lt } from './time.js';
import { timingWindows, type MeterStep } from './treatment.js';

/** Low-capture episodes of one device from its hours: `received(h)` distinct data times of its cadence stream. */
export function captureEpisodes(
  sc: RuleScope,
  input: SectionInput,
  device: DeviceView,
  first: number,
  hours: readonly number[],
  gaps: readonly { start: number; end: number }[],
  received: (hour: number) => number,
  episodes: EpisodeOut[],
): void {
  const lc = sc.rules(input.enterpriseId, device.siteId).lowCapture;
  if (!lc.enabled) return;
  const expected = Math.floor(3600 / device.cadenceSeconds);
  const windows = hours.map((h): WindowFact => {
    const end = h + HOUR_MS;
    if (h < first || expected <= 0) return { start: h, end, cond: null };
    // Inhibition: while the device is offline its capture is judged by the offline rule.
    if (gaps.some((g) => g.start < end && g.end > h)) return { start: h, end, cond: null };
    const n = received(h);
    const rate = n / expected;
    return { start: h, end, cond: lt(rate, lc.minRate), detail: { received: n, expected, rate } };
  });
  sc.windowEpisodes(
    input,
    'low-capture',
    device.siteId,
    device.id,
    undefined,
    windows,
    lc,
    episodes,
    () => lc.severity,
    { minRate: lc.minRate, deviceId: device.id, cadenceSeconds: device.cadenceSeconds },
  );
}

/** The enterprise's treatment meters that serve a known production meter, by id. */
export function treatmentPairs(idx: RegistryIndex, enterpriseId: string): { pm: MeterView; tm: MeterView }[] {
  const out: { pm: MeterView; tm: MeterView }[] = [];
  for (const tm of [...idx.meters.values()]
    .filter((m) => m.enterpriseId === enterpriseId && m.role === 'treatment' && m.servesMeterId !== undefined)
    .sort((a, b) => (a.id < b.id ? -1 : 1))) {
    const pm = idx.meters.get(tm.servesMeterId!);
    if (pm) out.push({ pm, tm });
  }
  return out;
}

/** Evidence common to the treatment rules of one meter pair. */
function pairEvidence(
  pm: MeterView,
  tm: MeterView,
  ti: RulesConfig['treatmentIdle'],
): Record<string, unknown> {
  return {
    productionMeterId: pm.id,
    treatmentMeterId: tm.id,
    productionRatedKwh: pm.ratedWindowKwh ?? null,
    treatmentRatedKwh: tm.ratedWindowKwh ?? null,
    productionShare: ti.productionShare,
    treatmentShare: ti.treatmentShare,
  };
}

/** Treatment-idle episodes of one meter pair from its closed 15-minute windows (from the horizon start). */
export function treatmentIdleEpisodes(
  sc: RuleScope,
  input: SectionInput,
  pm: MeterView,
  tm: MeterView,
  ti: RulesConfig['treatmentIdle'],
  windows: WindowFact[],
  episodes: EpisodeOut[],
): void {
  const confirm = (w: WindowFact) =>
    inResumptionWindow(sc.idx, input.enterpriseId, w.start)
      ? ti.confirmWindowsInResumption
      : ti.confirmWindows;
  const facilities = (tm.facilities ?? []).map((f) => `${f.siteId}/${f.code}`);
  sc.windowEpisodes(
    input,
    'treatment-idle',
    tm.id,
    pm.id,
    undefined,
    windows,
    { ...ti, confirm },
    episodes,
    () => ti.severity,
    {
      ...pairEvidence(pm, tm, ti),
      windowMinutes: ti.windowMinutes,
      ...(facilities.length > 0 ? { facilities } : {}),
    },
  );
}

/** Late start / early stop episodes of one meter pair from its closed steps (from the horizon start). */
export function treatmentTimingEpisodes(
  sc: RuleScope,
  input: SectionInput,
  pm: MeterView,
  tm: MeterView,
  rules: RulesConfig,
  steps: readonly MeterStep[],
  episodes: EpisodeOut[],
): void {
  const tt = rules.treatmentTiming;
  const ti = rules.treatmentIdle;
  const { late, early } = timingWindows(steps, tt.stepMinutes * MINUTE_MS, tt.maxLagMinutes * MINUTE_MS);
  const confirm = (w: WindowFact) =>
    inResumptionWindow(sc.idx, input.enterpriseId, w.start)
      ? tt.confirmWindowsInResumption
      : tt.confirmWindows;
  const params = {
    ...pairEvidence(pm, tm, ti),
    stepMinutes: tt.stepMinutes,
    maxLagMinutes: tt.maxLagMinutes,
  };
  for (const [rule, windows] of [
    ['treatment-late-start', late],
    ['treatment-early-stop', early],
  ] as const) {
    if (windows.length === 0 && !input.carried.has(`${tm.id}|${rule}|${pm.id}`)) continue;
    sc.windowEpisodes(
      input,
      rule,
      tm.id,
      pm.id,
      undefined,
      windows,
      { ...tt, confirm },
      episodes,
      () => tt.severity,
      params,
    );
  }
}
