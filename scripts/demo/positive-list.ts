/**
 * The demo summary's positive list (正面清单): the analyzer's stability round as of the end of the simulated day
 * (its history-cli, over the backfilled months and the simulated day), then every enterprise's eligibility judged
 * as of that time by the console's own evaluation (services/console/src/regulation), each with its reasons.
 * Checks (✓/✗): the enterprises picked to fail (history-picks.ts), the exceedance scenario's and the flat-line
 * scenario's (its case confirmed as falsification by the demo supervisor through the console, confirm-falsification.ts)
 * fail for exactly their stated reason, and some enterprises qualify while others do not. Before the round it waits,
 * bounded, until the analyzer has recorded the confirmation (analyzer_review_decisions, from review.decision.v1).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type pg from 'pg';
import type { Criterion } from '@offsite/regulation';
import {
  computeEligibility,
  type EnterpriseEligibility,
} from '../../services/console/src/regulation/index.js';
import { analyzerStability } from '../../services/console/src/regulation-sources.js';

export interface HistoryInfo {
  days: number;
  lowTransmission: string;
  missingEvery: number;
  silent: string;
  silentFrom: string;
  /** The enterprise whose history lies just below its limits (the peers cross-check's stand-out). */
  nearLimit: string;
}

/** The case confirmed as falsification through the console's review API (confirm-falsification.ts prints it). */
export interface ConfirmedCase {
  caseId: string;
  enterpriseId: string;
  reviewState: string;
}

const shanghai = (iso: string | null | undefined): string =>
  iso
    ? new Date(iso).toLocaleString('sv-SE', { timeZone: 'Asia/Shanghai', hour12: false }).slice(0, 16)
    : 'never';
const pct = (x: number) => `${(Math.round(x * 1000) / 10).toFixed(1)} %`;

/** One failed criterion in words and numbers (zh / en). */
export function reason(c: Criterion): string {
  const v = (c.value ?? {}) as Record<string, unknown>;
  switch (c.code) {
    case 'MONITORING_INSTALLED':
      return '未安装自动监控 / no monitoring installed';
    case 'MONITORING_CONNECTED':
      return `未联网 / not connected: last data ${shanghai(v.lastReceivedAt as string | null)}, more than 24 h before`;
    case 'STABLY_COMPLIANT': {
      if (c.value === null) return '无稳定达标统计 / no stability figures';
      const parts: string[] = [];
      const rate = Number(v.effectiveTransmissionRate);
      if (rate < Number(v.minEffectiveTransmissionRate))
        parts.push(
          `传输有效率 / effective transmission ${pct(rate)} < ${pct(Number(v.minEffectiveTransmissionRate))}`,
        );
      if (Number(v.exceedanceWindows) > 0)
        parts.push(`超标时段 / exceedance windows ${String(v.exceedanceWindows)}`);
      if (Number(v.confirmedFalsifications) > 0)
        parts.push(`经确认造假 / confirmed falsifications ${String(v.confirmedFalsifications)}`);
      return `未稳定达标 / not stably compliant: ${parts.join('; ') || 'nothing expected in the window'}`;
    }
    case 'CREDIT_GOOD':
      return `环境信用 / credit rating ${String(v.rating ?? 'none')}`;
    case 'NO_RECENT_VIOLATION':
      return `近一年违法 / violations within a year: ${String(v.count)}, latest ${String(v.latest)}`;
    case 'INDUSTRY_NOT_EXCLUDED':
      return `排除行业 / excluded industry ${String(v.industry)}`;
    case 'NO_RECENT_CRIME':
      return `近三年环境犯罪 / environmental crime within 3 years: ${String(v.count)}`;
  }
}

const failed = (e: EnterpriseEligibility) => e.criteria.filter((c) => !c.pass);
const stable = (e: EnterpriseEligibility) =>
  (e.criteria.find((c) => c.code === 'STABLY_COMPLIANT')?.value ?? null) as {
    effectiveTransmissionRate: number;
    exceedanceWindows: number;
    confirmedFalsifications: number;
  } | null;

/** Waits (at most `waitMs`) until the analyzer recorded the confirmation; whether it did. */
async function analyzerHasConfirmed(
  pool: pg.Pool,
  caseId: string,
  waitMs: number,
  progress: (s: string) => void,
): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const r = await pool.query(
      'select 1 from analyzer_review_decisions where deviation_id = $1 and confirmed_at is not null',
      [caseId],
    );
    if (r.rowCount) return true;
    if (Date.now() > deadline) return false;
    progress(`waiting for the analyzer to record the confirmation of ${caseId}`);
    await new Promise((res) => setTimeout(res, 1000));
  }
}

/** Runs the as-of round and returns the section's lines. */
export async function positiveListSection(
  pool: pg.Pool,
  asOf: number,
  history: HistoryInfo,
  exceedanceEnterprise: string | undefined,
  confirmed: ConfirmedCase | null,
  progress: (s: string) => void,
): Promise<string[]> {
  const out: string[] = [];
  const iso = new Date(asOf).toISOString();
  const recorded = confirmed ? await analyzerHasConfirmed(pool, confirmed.caseId, 60_000, progress) : false;
  out.push(
    confirmed
      ? `  ${confirmed.reviewState === 'confirmed' && recorded ? '✓' : '✗'} the demo supervisor confirmed ${confirmed.caseId} ` +
          `as falsification (弄虚作假) through the console's review API: review state ${confirmed.reviewState}, ` +
          `${recorded ? 'recorded by the analyzer' : 'not recorded by the analyzer within 60 s'}`
      : "  ✗ no flat-line case was confirmed through the console's review API (see .offsite/demo/logs/confirm.log)",
  );
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--conditions=offsite-source', '--import', 'tsx', 'src/history-cli.ts', 'stability', '--as-of', iso],
    { cwd: new URL('../../services/analyzer/', import.meta.url), maxBuffer: 1 << 20 },
  );
  const round = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
    enterprises?: number;
    failed?: number;
  };
  out.push(
    `  stability figures as of ${shanghai(iso)} Asia/Shanghai (the simulated clock), ${history.days} days of history ` +
      `at the aggregate level + the simulated day: ${round.enterprises ?? 0} enterprises, ${round.failed ?? 0} failed`,
  );
  const list = await computeEligibility(
    pool,
    { userId: 'demo-summary', role: 'admin', districtId: null },
    { stability: analyzerStability(pool), now: new Date(asOf) },
  );
  const byId = new Map(list.map((e) => [e.enterpriseId, e]));
  const onlyFails = (
    id: string,
    code: Criterion['code'],
    ok: (e: EnterpriseEligibility) => boolean,
    what: string,
  ) => {
    const e = byId.get(id);
    const fails = e ? failed(e).map((c) => c.code) : [];
    const pass = e !== undefined && fails.length === 1 && fails[0] === code && ok(e);
    out.push(
      `  ${pass ? '✓' : '✗'} ${id} fails for ${what} only: ${e ? failed(e).map(reason).join('; ') || 'qualifies' : 'not evaluated'}`,
    );
  };
  onlyFails(
    history.lowTransmission,
    'STABLY_COMPLIANT',
    (e) => (stable(e)?.effectiveTransmissionRate ?? 1) < 0.9,
    `transmission (every ${history.missingEvery}th hour of the history missing)`,
  );
  onlyFails(
    history.silent,
    'MONITORING_CONNECTED',
    () => true,
    `connection (silent since ${shanghai(history.silentFrom)})`,
  );
  if (exceedanceEnterprise) {
    const e = byId.get(exceedanceEnterprise);
    const ok = e !== undefined && (stable(e)?.exceedanceWindows ?? 0) > 0 && !e.eligible;
    out.push(
      `  ${ok ? '✓' : '✗'} ${exceedanceEnterprise} fails for the simulated day's exceedance: ${e ? failed(e).map(reason).join('; ') || 'qualifies' : 'not evaluated'}`,
    );
  }
  if (confirmed)
    onlyFails(
      confirmed.enterpriseId,
      'STABLY_COMPLIANT',
      (e) => (stable(e)?.confirmedFalsifications ?? 0) > 0,
      `the confirmed falsification (${confirmed.caseId})`,
    );
  const qualifying = list.filter((e) => e.eligible);
  const mixed = qualifying.length > 0 && qualifying.length < list.length;
  out.push(
    `  ${mixed ? '✓' : '✗'} ${qualifying.length} of ${list.length} enterprises qualify, ${list.length - qualifying.length} do not:`,
  );
  for (const e of list)
    out.push(
      `    ${e.eligible ? '合格 qualifies    ' : '不合格 fails      '} ${e.enterpriseId} ${e.nameZh}` +
        (e.eligible ? '' : `: ${failed(e).map(reason).join('; ')}`),
    );
  return out;
}
