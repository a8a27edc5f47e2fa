// The figures of districts' submissions and period summaries: the outcomes they count, the figures and
// their CSV. The figures have no due date or submission of their own: they are the figures section of
// a district's monthly submission (the console's submissions, due on the 25th of their month), frozen
// when it is submitted. The console computes them from its supervision-outcome ledger, complaints and
// inspections and the alerter's read API.
import type { TransmissionCounts } from '@offsite/domain';
import { toCsv } from './csv.js';

export type OutcomeKind =
  | 'offsite-check'
  | 'deviation'
  | 'reminder-sent'
  | 'reminder-acknowledged'
  | 'rectification'
  | 'penalty-waived'
  | 'case-referred';

export interface OutcomeEvent {
  kind: OutcomeKind;
  /** Unique per kind (a case id, a notification id): recording twice is a no-op. */
  sourceRef: string;
  enterpriseId: string;
  occurredAt: Date;
  /** Deviation rule (for `deviation`). */
  rule?: string | null;
  /** Deviation outcome: e.g. `confirmed`, `dismissed`, `explained` (for `deviation`). */
  outcome?: string | null;
  /** Rectification deadline and completion (for `rectification`); done null while open. */
  dueAt?: Date | null;
  doneAt?: Date | null;
}

/** Records an outcome; returns false when it was already recorded. */
export interface ReportFigures {
  offsiteChecks: number;
  deviations: { rule: string; outcome: string; count: number }[];
  deviationsTotal: number;
  remindersSent: number;
  remindersAcknowledged: number;
  rectifications: { total: number; inTime: number; late: number; open: number };
  penaltiesWaived: number;
  casesReferred: number;
  /** Penalty discretion approved in the period (the console's discretion records), by kind. */
  discretion: DiscretionFigures;
  complaints: { received: number; acknowledgedInTime: number; resolvedInTime: number };
  inspections: { drawnOnSite: number; recorded: number; problemsFound: number };
  /** Whistle-blower rewards (举报奖励) approved in the period: how many and their sum in yuan. */
  rewards: { approved: number; amountYuan: number };
}

export interface DiscretionFigures {
  /** No-penalty decisions by the kind of their legal basis. */
  noPenalty: { minor: number; firstViolation: number; forceMajeure: number };
  /** Rectification deadlines extended (酌情延长整改期限). */
  extensions: number;
  /** Coercive measures (查封、扣押、限产、停产). */
  coerciveMeasures: { sealUp: number; seizure: number; limitProduction: number; suspendProduction: number };
}

export interface MonthlyReport {
  districtId: string;
  districtNameZh: string;
  month: string;
  from: string;
  to: string;
  figures: ReportFigures;
  /** The district's 传输有效率 of the month (HJ 75 / HJ 355 practice), when the console could compute it. */
  transmission?: ReportTransmission | null;
  /** The district's emission loads of the month, when the console could compute them. */
  loads?: ReportLoads | null;
}

/**
 * The figures a monthly submission freezes: the counts, the district's 传输有效率 and its emission loads of
 * the month (null when they could not be computed, e.g. for the period summary).
 */
export interface SubmissionFigures extends ReportFigures {
  transmission?: ReportTransmission | null;
  loads?: ReportLoads | null;
}

/**
 * A district's emission loads (排放量) of a month per outlet and factor with a permitted annual load
 * (许可排放量) or a load: the valid hours' load (concentration × flow) against the permit's share of the
 * month (annual × the month's share of its year); `above` when the month's load exceeds that share.
 */
export interface ReportLoads {
  rows: ReportLoadRow[];
}

export interface ReportLoadRow {
  enterpriseId: string;
  enterpriseName: string;
  outletId: string;
  outletName: string;
  factor: string;
  loadKg: number;
  /** The logger's `Cou` sum (kg), null when it sent none. */
  reportedKg: number | null;
  validHours: number;
  missingHours: number;
  permitAnnualKg: number | null;
  /** permitAnnualKg × the month's share of its year; null without a permit. */
  permitMonthKg: number | null;
  above: boolean;
}

/** A district's monthly transmission statistics: record counts, rates (0–1) and the enterprises below the threshold. */
export interface ReportTransmission extends TransmissionCounts {
  threshold: number;
  enterprisesBelow: { id: string; name: string; effectiveRate: number | null }[];
  /** The devices below the threshold (a device without data in the month: 0 %). */
  devicesBelow?: { mn: string; enterpriseName: string; outletName: string; effectiveRate: number | null }[];
}

const percent = (r: number | null): string => (r === null ? '' : (r * 100).toFixed(1));

export interface PeriodSummary {
  from: string;
  to: string;
  districts: { districtId: string; districtNameZh: string; figures: ReportFigures }[];
  total: ReportFigures;
}

const FIGURE_COLUMNS: { key: string; zh: string; get: (f: ReportFigures) => number }[] = [
  { key: 'offsiteChecks', zh: '非现场检查', get: (f) => f.offsiteChecks },
  { key: 'deviationsTotal', zh: '异常线索', get: (f) => f.deviationsTotal },
  { key: 'remindersSent', zh: '提醒发送', get: (f) => f.remindersSent },
  { key: 'remindersAcknowledged', zh: '提醒已确认', get: (f) => f.remindersAcknowledged },
  { key: 'rectificationsTotal', zh: '整改总数', get: (f) => f.rectifications.total },
  { key: 'rectifiedInTime', zh: '按期整改', get: (f) => f.rectifications.inTime },
  { key: 'rectifiedLate', zh: '逾期整改', get: (f) => f.rectifications.late },
  { key: 'rectificationsOpen', zh: '未完成整改', get: (f) => f.rectifications.open },
  { key: 'penaltiesWaived', zh: '轻微违法免罚', get: (f) => f.penaltiesWaived },
  { key: 'casesReferred', zh: '移送案件', get: (f) => f.casesReferred },
  { key: 'noPenaltyMinor', zh: '轻微违法不罚', get: (f) => f.discretion.noPenalty.minor },
  { key: 'noPenaltyFirstViolation', zh: '首违不罚', get: (f) => f.discretion.noPenalty.firstViolation },
  { key: 'noPenaltyForceMajeure', zh: '不可抗力不罚', get: (f) => f.discretion.noPenalty.forceMajeure },
  { key: 'rectificationExtensions', zh: '延长整改期限', get: (f) => f.discretion.extensions },
  { key: 'measuresSealUp', zh: '查封', get: (f) => f.discretion.coerciveMeasures.sealUp },
  { key: 'measuresSeizure', zh: '扣押', get: (f) => f.discretion.coerciveMeasures.seizure },
  { key: 'measuresLimitProduction', zh: '限产', get: (f) => f.discretion.coerciveMeasures.limitProduction },
  {
    key: 'measuresSuspendProduction',
    zh: '停产',
    get: (f) => f.discretion.coerciveMeasures.suspendProduction,
  },
  { key: 'complaintsReceived', zh: '信访举报受理', get: (f) => f.complaints.received },
  { key: 'complaintsResolvedInTime', zh: '信访按期办结', get: (f) => f.complaints.resolvedInTime },
  { key: 'inspectionsRecorded', zh: '随机抽查已检查', get: (f) => f.inspections.recorded },
  { key: 'inspectionProblemsFound', zh: '抽查发现问题', get: (f) => f.inspections.problemsFound },
  { key: 'rewardsApproved', zh: '举报奖励（批准）', get: (f) => f.rewards?.approved ?? 0 },
  { key: 'rewardsAmountYuan', zh: '举报奖励金额（元）', get: (f) => f.rewards?.amountYuan ?? 0 },
];

/** The month's figures (live) as CSV: the same columns as a submission's frozen figures. */
export function monthlyReportCsv(r: MonthlyReport): string {
  return submissionFiguresCsv(r.districtId, r.month, {
    ...r.figures,
    transmission: r.transmission ?? null,
    loads: r.loads ?? null,
  });
}

const kg = (v: number | null): number | string => (v === null ? '' : Math.round(v * 1000) / 1000);

/**
 * A submission's figures as CSV, one row per figure: district, period, the figure's key, its Chinese name
 * and its value (rates in %, loads in kg).
 */
export function submissionFiguresCsv(districtId: string, period: string, f: SubmissionFigures): string {
  const rows: (string | number)[][] = FIGURE_COLUMNS.map((c) => [districtId, period, c.key, c.zh, c.get(f)]);
  const row = (key: string, zh: string, v: string | number) => rows.push([districtId, period, key, zh, v]);
  for (const d of f.deviations)
    row(`deviations:${d.rule}:${d.outcome}`, `异常线索（${d.rule} / ${d.outcome}）`, d.count);
  const t = f.transmission;
  if (t) {
    row('transmissionRatePct', '传输率（%）', percent(t.transmissionRate));
    row('validityRatePct', '有效率（%）', percent(t.validityRate));
    row('effectiveTransmissionRatePct', '传输有效率（%）', percent(t.effectiveRate));
    row('transmissionBelowThreshold', '传输有效率低于考核值的企业数', t.enterprisesBelow.length);
    for (const e of t.enterprisesBelow)
      row(`transmissionBelow:${e.id}`, `传输有效率低于考核值（${e.name}，%）`, percent(e.effectiveRate));
    for (const d of t.devicesBelow ?? [])
      row(
        `transmissionDeviceBelow:${d.mn}`,
        `设备传输有效率低于考核值（${d.enterpriseName} ${d.outletName} ${d.mn}，%）`,
        percent(d.effectiveRate),
      );
  }
  const l = f.loads;
  if (l) {
    row(
      'loadsAbovePermitShare',
      '排放量超过许可排放量月度份额的排放口因子数',
      l.rows.filter((x) => x.above).length,
    );
    for (const x of l.rows) {
      const at = `${x.outletId}:${x.factor}`;
      const name = `${x.enterpriseName} ${x.outletName} ${x.factor}`;
      row(`loadKg:${at}`, `排放量（${name}，kg）`, kg(x.loadKg));
      row(`loadPermitMonthKg:${at}`, `许可排放量月度份额（${name}，kg）`, kg(x.permitMonthKg));
      row(`loadAbovePermitShare:${at}`, `超过许可份额（${name}）`, x.above ? 1 : 0);
    }
  }
  return toCsv(['区县 District', '月份 Month', '指标 Metric', '指标名称 Name', '数值 Value'], rows);
}

export function periodSummaryCsv(s: PeriodSummary): string {
  const header = ['区县 District', '区县名称 Name', ...FIGURE_COLUMNS.map((c) => `${c.zh} ${c.key}`)];
  const rows = s.districts.map((d) => [
    d.districtId,
    d.districtNameZh,
    ...FIGURE_COLUMNS.map((c) => c.get(d.figures)),
  ]);
  rows.push(['total', '合计', ...FIGURE_COLUMNS.map((c) => c.get(s.total))]);
  return toCsv(header, rows);
}
