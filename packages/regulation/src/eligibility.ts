// Positive-list eligibility (domain-rules §4, 2020 criteria, all required). Pure: the caller loads
// the enterprise, its violations and the analyzer's stability metrics; every criterion is reported
// with its value and requirement, so the console can show why an enterprise is or is not eligible.
import { isStablyCompliant, type StabilityMetrics } from '@offsite/domain';
import { addDays, addYears, shanghaiDate } from '@offsite/domain/calendar';

export type CreditRating = 'A' | 'B' | 'C' | 'D';

export interface EligibilityConfig {
  /** Ratings that count as "environmental credit good". Default A and B. */
  goodCreditRatings: readonly CreditRating[];
  /** No environmental violation within this many days. Default 365. */
  violationLookbackDays: number;
  /** No environmental crime within this many years. Default 3. */
  crimeLookbackYears: number;
  /** Industry keys excluded from the list whatever their record. */
  excludedIndustries: readonly string[];
  /** Stably compliant: effective transmission rate at least this. Default 0.9. */
  minEffectiveTransmissionRate: number;
  /** "Connected": the analyzer received data within this many hours. Default 24. */
  connectedWithinHours: number;
}

export const defaultEligibilityConfig: EligibilityConfig = Object.freeze<EligibilityConfig>({
  goodCreditRatings: ['A', 'B'],
  violationLookbackDays: 365,
  crimeLookbackYears: 3,
  excludedIndustries: [
    'waste-incineration',
    'hazardous-waste-disposal',
    'medical-waste-disposal',
    'industrial-park-wastewater',
  ],
  minEffectiveTransmissionRate: 0.9,
  connectedWithinHours: 24,
});

export interface EligibilityViolation {
  /** `YYYY-MM-DD`, Asia/Shanghai. */
  occurredOn: string;
  kind: string;
  serious: boolean;
}

export interface EligibilitySubject {
  enterpriseId: string;
  industry: string;
  creditRating: CreditRating | null;
  /** Enabled monitoring devices (HJ 212 data loggers) registered for the enterprise's outlets. */
  monitoringDevices: number;
  violations: readonly EligibilityViolation[];
}

/** What the analyzer publishes per enterprise over its trailing window. */
export interface EnterpriseStability {
  enterpriseId: string;
  windowFrom: Date;
  windowTo: Date;
  metrics: StabilityMetrics;
  /** Last time telemetry of the enterprise arrived; null if never. */
  lastReceivedAt: Date | null;
}

export type CriterionCode =
  | 'MONITORING_INSTALLED'
  | 'MONITORING_CONNECTED'
  | 'STABLY_COMPLIANT'
  | 'CREDIT_GOOD'
  | 'NO_RECENT_VIOLATION'
  | 'INDUSTRY_NOT_EXCLUDED'
  | 'NO_RECENT_CRIME';

export interface Criterion {
  code: CriterionCode;
  pass: boolean;
  /** The value judged (JSON). */
  value: unknown;
  requirement: { zh: string; en: string };
}

export interface Eligibility {
  enterpriseId: string;
  eligible: boolean;
  evaluatedAt: string;
  criteria: Criterion[];
}

export function evaluateEligibility(
  subject: EligibilitySubject,
  stability: EnterpriseStability | null,
  now: Date,
  config: EligibilityConfig = defaultEligibilityConfig,
): Eligibility {
  const today = shanghaiDate(now);
  const criteria: Criterion[] = [];

  criteria.push({
    code: 'MONITORING_INSTALLED',
    pass: subject.monitoringDevices > 0,
    value: { devices: subject.monitoringDevices },
    requirement: { zh: '已安装自动监控设备', en: 'online monitoring installed' },
  });

  const sinceMs = stability?.lastReceivedAt ? now.getTime() - stability.lastReceivedAt.getTime() : null;
  criteria.push({
    code: 'MONITORING_CONNECTED',
    pass: sinceMs !== null && sinceMs <= config.connectedWithinHours * 3_600_000,
    value: { lastReceivedAt: stability?.lastReceivedAt?.toISOString() ?? null },
    requirement: {
      zh: `自动监控已联网，最近 ${config.connectedWithinHours} 小时内有数据`,
      en: `monitoring connected: data received within ${config.connectedWithinHours} h`,
    },
  });

  const m = stability?.metrics ?? null;
  criteria.push({
    code: 'STABLY_COMPLIANT',
    pass:
      m !== null &&
      m.expected > 0 &&
      isStablyCompliant(m, { minEffectiveTransmissionRate: config.minEffectiveTransmissionRate }),
    value:
      m === null
        ? null
        : {
            effectiveTransmissionRate: round4(m.effectiveTransmissionRate),
            minEffectiveTransmissionRate: config.minEffectiveTransmissionRate,
            exceedanceWindows: m.exceedanceWindows,
            confirmedFalsifications: m.confirmedFalsifications,
            windowFrom: stability?.windowFrom.toISOString(),
            windowTo: stability?.windowTo.toISOString(),
          },
    requirement: {
      zh: `稳定达标：有效传输率 ≥ ${pct(config.minEffectiveTransmissionRate)}，无超标时段，无经确认的数据造假`,
      en: `stably compliant: effective transmission rate ≥ ${pct(config.minEffectiveTransmissionRate)}, no exceedance window, no confirmed falsification`,
    },
  });

  criteria.push({
    code: 'CREDIT_GOOD',
    pass: subject.creditRating !== null && config.goodCreditRatings.includes(subject.creditRating),
    value: { rating: subject.creditRating },
    requirement: {
      zh: `环境信用评价为 ${config.goodCreditRatings.join('/')}`,
      en: `environmental credit rating ${config.goodCreditRatings.join(' or ')}`,
    },
  });

  const violationSince = addDays(today, -config.violationLookbackDays);
  const recent = subject.violations.filter((v) => v.occurredOn > violationSince && v.occurredOn <= today);
  criteria.push({
    code: 'NO_RECENT_VIOLATION',
    pass: recent.length === 0,
    value: { count: recent.length, latest: latestDate(recent), since: violationSince },
    requirement: {
      zh: `近 ${config.violationLookbackDays} 天内无环境违法记录`,
      en: `no environmental violation within the last ${config.violationLookbackDays} days`,
    },
  });

  criteria.push({
    code: 'INDUSTRY_NOT_EXCLUDED',
    pass: !config.excludedIndustries.includes(subject.industry),
    value: { industry: subject.industry },
    requirement: { zh: '不属于排除行业', en: 'industry not excluded' },
  });

  const crimeSince = addYears(today, -config.crimeLookbackYears);
  const crimes = subject.violations.filter((v) => v.kind === 'crime' && v.occurredOn > crimeSince);
  criteria.push({
    code: 'NO_RECENT_CRIME',
    pass: crimes.length === 0,
    value: { count: crimes.length, latest: latestDate(crimes), since: crimeSince },
    requirement: {
      zh: `近 ${config.crimeLookbackYears} 年内无环境犯罪记录`,
      en: `no environmental crime within the last ${config.crimeLookbackYears} years`,
    },
  });

  return {
    enterpriseId: subject.enterpriseId,
    eligible: criteria.every((c) => c.pass),
    evaluatedAt: now.toISOString(),
    criteria,
  };
}

function latestDate(vs: readonly EligibilityViolation[]): string | null {
  return vs.reduce<string | null>(
    (acc, v) => (acc === null || v.occurredOn > acc ? v.occurredOn : acc),
    null,
  );
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

function pct(x: number): string {
  return `${Math.round(x * 1000) / 10} %`;
}
