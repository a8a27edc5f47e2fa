// A submission's figures CSV for a hand-built month: its header, every figure's row (the rewards among them),
// the 传输有效率 and the emission loads against the permit's share of the month.
import { submissionFiguresCsv, type SubmissionFigures } from './reports.js';

const march: SubmissionFigures = {
  offsiteChecks: 7,
  deviations: [{ rule: 'exceedance', outcome: 'confirmed', count: 2 }],
  deviationsTotal: 2,
  remindersSent: 5,
  remindersAcknowledged: 3,
  rectifications: { total: 3, inTime: 2, late: 1, open: 0 },
  penaltiesWaived: 1,
  casesReferred: 0,
  discretion: {
    noPenalty: { minor: 1, firstViolation: 2, forceMajeure: 0 },
    extensions: 1,
    coerciveMeasures: { sealUp: 0, seizure: 0, limitProduction: 1, suspendProduction: 0 },
  },
  complaints: { received: 4, acknowledgedInTime: 4, resolvedInTime: 3 },
  inspections: { drawnOnSite: 2, recorded: 2, problemsFound: 1 },
  rewards: { approved: 2, amountYuan: 1500.5 },
  transmission: {
    expected: 1000,
    received: 950,
    valid: 900,
    transmissionRate: 0.95,
    validityRate: 900 / 950,
    effectiveRate: 0.9,
    belowThreshold: false,
    threshold: 0.9,
    enterprisesBelow: [{ id: 'ent-0002', name: '澜东化工', effectiveRate: 0.8512 }],
    devicesBelow: [{ mn: 'MN0002', enterpriseName: '澜东化工', outletName: '废水总排口', effectiveRate: 0 }],
  },
  loads: {
    rows: [
      {
        enterpriseId: 'ent-0001',
        enterpriseName: '澜东热电',
        outletId: 'out-1',
        outletName: '1号烟囱',
        factor: 'a21026',
        loadKg: 123.4567,
        reportedKg: 120,
        validHours: 700,
        missingHours: 44,
        permitAnnualKg: 1200,
        permitMonthKg: (1200 * 31) / 365,
        above: true,
      },
      {
        enterpriseId: 'ent-0001',
        enterpriseName: '澜东热电',
        outletId: 'out-1',
        outletName: '1号烟囱',
        factor: 'a21002',
        loadKg: 10,
        reportedKg: null,
        validHours: 744,
        missingHours: 0,
        permitAnnualKg: null,
        permitMonthKg: null,
        above: false,
      },
    ],
  },
};

test('the CSV of a submission’s figures: its columns and the values of a hand-built month', () => {
  const csv = submissionFiguresCsv('dist-landong', '2026-03', march).replace(/^\uFEFF/, '');
  const lines = csv.trim().split(/\r?\n/);
  expect(lines[0]).toBe('区县 District,月份 Month,指标 Metric,指标名称 Name,数值 Value');
  const value = new Map(
    lines.slice(1).map((l) => {
      const cells = l.split(',');
      expect(cells.slice(0, 2)).toEqual(['dist-landong', '2026-03']);
      return [cells[2]!, [cells[3], cells[4]]];
    }),
  );
  expect(value.get('offsiteChecks')).toEqual(['非现场检查', '7']);
  expect(value.get('rectifiedInTime')).toEqual(['按期整改', '2']);
  expect(value.get('noPenaltyFirstViolation')).toEqual(['首违不罚', '2']);
  expect(value.get('measuresLimitProduction')).toEqual(['限产', '1']);
  expect(value.get('rewardsApproved')).toEqual(['举报奖励（批准）', '2']);
  expect(value.get('rewardsAmountYuan')).toEqual(['举报奖励金额（元）', '1500.5']);
  expect(value.get('deviations:exceedance:confirmed')).toEqual(['异常线索（exceedance / confirmed）', '2']);
  expect(value.get('transmissionRatePct')).toEqual(['传输率（%）', '95.0']);
  expect(value.get('validityRatePct')).toEqual(['有效率（%）', '94.7']);
  expect(value.get('effectiveTransmissionRatePct')).toEqual(['传输有效率（%）', '90.0']);
  expect(value.get('transmissionBelowThreshold')).toEqual(['传输有效率低于考核值的企业数', '1']);
  expect(value.get('transmissionBelow:ent-0002')).toEqual(['传输有效率低于考核值（澜东化工，%）', '85.1']);
  expect(value.get('transmissionDeviceBelow:MN0002')).toEqual([
    '设备传输有效率低于考核值（澜东化工 废水总排口 MN0002，%）',
    '0.0',
  ]);
  expect(value.get('loadsAbovePermitShare')).toEqual(['排放量超过许可排放量月度份额的排放口因子数', '1']);
  expect(value.get('loadKg:out-1:a21026')).toEqual(['排放量（澜东热电 1号烟囱 a21026，kg）', '123.457']);
  expect(value.get('loadPermitMonthKg:out-1:a21026')).toEqual([
    '许可排放量月度份额（澜东热电 1号烟囱 a21026，kg）',
    '101.918',
  ]);
  expect(value.get('loadAbovePermitShare:out-1:a21026')).toEqual([
    '超过许可份额（澜东热电 1号烟囱 a21026）',
    '1',
  ]);
  // Without a permit: the load, an empty share, not above.
  expect(value.get('loadKg:out-1:a21002')?.[1]).toBe('10');
  expect(value.get('loadPermitMonthKg:out-1:a21002')?.[1]).toBe('');
  expect(value.get('loadAbovePermitShare:out-1:a21002')?.[1]).toBe('0');
  // Every figure column once, in order, then the breakdowns.
  expect([...value.keys()].slice(0, 24)).toEqual([
    'offsiteChecks',
    'deviationsTotal',
    'remindersSent',
    'remindersAcknowledged',
    'rectificationsTotal',
    'rectifiedInTime',
    'rectifiedLate',
    'rectificationsOpen',
    'penaltiesWaived',
    'casesReferred',
    'noPenaltyMinor',
    'noPenaltyFirstViolation',
    'noPenaltyForceMajeure',
    'rectificationExtensions',
    'measuresSealUp',
    'measuresSeizure',
    'measuresLimitProduction',
    'measuresSuspendProduction',
    'complaintsReceived',
    'complaintsResolvedInTime',
    'inspectionsRecorded',
    'inspectionProblemsFound',
    'rewardsApproved',
    'rewardsAmountYuan',
  ]);
  expect(lines.length - 1).toBe(24 + 1 + 6 + 1 + 2 * 3);
});
