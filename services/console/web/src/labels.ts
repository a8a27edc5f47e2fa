// Display names of the codes the API returns (deviation rules, HJ 212 factor codes, severities, registry
// enums). The codes stay the API's and the filters' values; only what a person reads is translated.
// An unknown code is shown as it is, so a rule or factor added later still shows up.
import { reactive } from 'vue';
import { lang, t } from './i18n';

type Names = Readonly<Record<string, readonly [zh: string, en: string]>>;

/** deviation.v1 `rule` (schemas/deviation.v1.schema.json). */
export const RULES: Names = {
  exceedance: ['超标', 'Exceedance'],
  'treatment-idle': ['产治污不同步（治污设施未运行）', 'Treatment idle while producing'],
  'treatment-late-start': ['治污设施滞后启动', 'Treatment started late'],
  'treatment-early-stop': ['治污设施提前停运', 'Treatment stopped early'],
  flatline: ['恒值', 'Flatline'],
  'zero-while-running': ['零值', 'Zero while running'],
  'out-of-range': ['负值/超量程', 'Negative / out of range'],
  offline: ['断线', 'Offline'],
  'low-capture': ['数据传输率低', 'Low data capture'],
  'abnormal-flag': ['异常标记', 'Abnormal data flag'],
  'o2-near-ambient': ['氧含量接近空气', 'O₂ near ambient air'],
  'clustered-below-limit': ['贴线排放', 'Clustered just below the limit'],
  'inconsistent-aggregate': ['数据不一致', 'Inconsistent aggregate'],
  'annual-load': ['排放量超许可', 'Annual load over the permit'],
  'production-emission': ['排放与生产用电不匹配', 'Emissions vs production energy'],
  peers: ['同行比对异常', 'Far off its peers'],
  'cross-device': ['多设备一致性异常', 'Cross-device inconsistency'],
  'remote-sensing': ['遥感发现异常', 'Remote-sensing finding'],
  'discharge-outside-hours': ['非许可时段排放（视频）', 'Discharge outside permitted hours (video)'],
};

/** HJ 212-2017 pollutant / parameter codes (design/domain-rules.md §1 and the registry's limits). */
export const FACTORS: Names = {
  a00000: ['废气流量', 'Flue gas flow'],
  a21026: ['二氧化硫 SO₂', 'Sulphur dioxide SO₂'],
  a21002: ['氮氧化物 NOx', 'Nitrogen oxides NOx'],
  a34013: ['颗粒物', 'Particulate matter'],
  a21005: ['一氧化碳 CO', 'Carbon monoxide CO'],
  a21024: ['氯化氢 HCl', 'Hydrogen chloride HCl'],
  a24088: ['非甲烷总烃', 'Non-methane hydrocarbons'],
  a19001: ['氧含量', 'Oxygen O₂'],
  a01011: ['烟气流速', 'Flue gas velocity'],
  a01012: ['烟气温度', 'Flue gas temperature'],
  a01013: ['烟气压力', 'Flue gas pressure'],
  a01014: ['烟气湿度', 'Flue gas humidity'],
  w00000: ['废水流量', 'Wastewater flow'],
  w01001: ['pH 值', 'pH'],
  w01018: ['化学需氧量 COD', 'Chemical oxygen demand COD'],
  w21003: ['氨氮', 'Ammonia nitrogen NH₃-N'],
  w21011: ['总磷', 'Total phosphorus'],
  w21001: ['总氮', 'Total nitrogen'],
  w01012: ['悬浮物', 'Suspended solids'],
  // Electricity meters (packages/normalize meter readings).
  power_kw: ['有功功率', 'Active power'],
  energy_kwh: ['累计电量', 'Energy'],
};

/** deviation.v1 `severity`, lowest first (the queue's filter order is highest first). */
export const SEVERITIES: Names = {
  info: ['提示', 'Info'],
  low: ['低', 'Low'],
  medium: ['中', 'Medium'],
  high: ['高', 'High'],
  critical: ['严重', 'Critical'],
};

/** Registry enums (packages/store/migrations/001_registry.sql). */
const OTHER: Names = {
  // enterprises.status
  normal: ['正常生产', 'Operating'],
  shutdown: ['停产', 'Shut down'],
  resuming: ['复工复产', 'Resuming production'],
  // enterprises.supervision_class
  key: ['重点排污单位', 'Key discharger'],
  special: ['特殊监管', 'Special supervision'],
  general: ['一般', 'General'],
  // meters.role
  production: ['生产设施', 'Production'],
  treatment: ['治污设施', 'Treatment'],
  total: ['总表', 'Total'],
  // permit_limits.basis
  hourly: ['小时均值', 'Hourly mean'],
  daily: ['日均值', 'Daily mean'],
  // telemetry.v1 interval and the evidence's statistic fields
  realtime: ['实时', 'real-time'],
  minute: ['分钟', 'minute'],
  hour: ['小时', 'hourly'],
  day: ['日', 'daily'],
  Rtd: ['实时值', 'value'],
  Avg: ['均值', 'mean'],
  Min: ['最小值', 'min'],
  Max: ['最大值', 'max'],
  Cou: ['累计值', 'total'],
  ZsAvg: ['折算均值', 'converted mean'],
  ZsRtd: ['折算值', 'converted value'],
  aggregate: ['折算均值（分析器）', 'converted mean (analyzer)'],
  // alert_notifications (migration 010): kind, recipient kind, status
  reminder: ['提醒', 'reminder'],
  escalation: ['升级', 'escalation'],
  resolved: ['已恢复', 'resolved'],
  'supervisor-alert': ['监管提醒', 'supervisor alert'],
  'enterprise-contact': ['企业联系人', 'enterprise contact'],
  supervisor: ['监管人员', 'supervisor'],
  sending: ['发送中', 'sending'],
  sent: ['已发送', 'sent'],
  failed: ['失败', 'failed'],
  // outlets.kind
  gas: ['废气', 'Flue gas'],
  water: ['废水', 'Wastewater'],
};

/** Regulation codes whose words differ from the registry's (a complaint's `resolved` is 已办结, not 已恢复). */
const REGULATION: Readonly<Record<string, Names>> = {
  // complaints.status (migration 040)
  complaintStatus: {
    received: ['已受理', 'Received'],
    acknowledged: ['已确认', 'Acknowledged'],
    investigating: ['核查中', 'Investigating'],
    resolved: ['已办结', 'Resolved'],
    closed: ['已关闭', 'Closed'],
    rejected: ['不予受理', 'Rejected'],
  },
  // complaints.channel and campaigns.channel
  channel: {
    hotline: ['12369 热线', '12369 hotline'],
    wechat: ['微信', 'WeChat'],
    web: ['网站', 'Web'],
    sms: ['短信', 'SMS'],
    email: ['电子邮件', 'Email'],
  },
  // positive_list_removal_proposals.trigger and status
  trigger: {
    'serious-violation': ['严重违法', 'Serious violation'],
    falsification: ['数据造假', 'Data falsification'],
    incident: ['突发环境事件', 'Environmental incident'],
  },
  proposalStatus: {
    open: ['待处理', 'Open'],
    accepted: ['已采纳', 'Accepted'],
    dismissed: ['未采纳', 'Dismissed'],
  },
  // the draw's strata (packages/regulation draw.ts) and check modes
  stratum: {
    key: ['重点排污单位', 'Key dischargers'],
    special: ['特殊监管对象', 'Special supervision'],
    general: ['一般排污单位', 'General'],
    'positive-list': ['正面清单', 'Positive list'],
  },
  mode: {
    'on-site': ['现场检查', 'On-site check'],
    'off-site': ['非现场检查', 'Off-site check'],
  },
};
export type RegulationCode = keyof typeof REGULATION;
/** A regulation code of `kind` in the current language; an unknown code as it is. */
export const regulationName = (kind: RegulationCode, code: string | null | undefined): string =>
  pick(REGULATION[kind]!, code);

function pick(names: Names, code: string | null | undefined): string {
  if (code == null) return '';
  const n = names[code];
  return n ? n[lang.value === 'zh' ? 0 : 1] : code;
}

export const ruleName = (rule: string | null | undefined): string => pick(RULES, rule);
export const severityName = (s: string | null | undefined): string => pick(SEVERITIES, s);
export const enumName = (code: string | null | undefined): string => pick(OTHER, code);

/** A factor code, possibly with an HJ 212 suffix (`a21026-Rtd`); the code itself goes in a tooltip. */
export function factorName(code: string | null | undefined): string {
  if (code == null || code === '') return '';
  const base = code.split('-')[0]!;
  const n = FACTORS[base];
  return n ? n[lang.value === 'zh' ? 0 : 1] : code;
}

/** A rule with its factor: 超标 · 二氧化硫 SO₂. */
export function ruleWithFactor(rule: string, factor: string | null | undefined): string {
  const f = factorName(factor);
  return f ? `${ruleName(rule)} · ${f}` : ruleName(rule);
}

/** The registry's district name in the current language; the id when the row carries no names. */
export function districtName(row: {
  districtId?: string | null;
  districtNameZh?: string | null;
  districtNameEn?: string | null;
}): string {
  const n = lang.value === 'zh' ? row.districtNameZh : (row.districtNameEn ?? row.districtNameZh);
  return n ?? row.districtId ?? '';
}

/** The enterprise's name in the current language (the registry's English name is optional). */
export function enterpriseName(zh: string, en: string | null | undefined): string {
  return lang.value === 'en' && en ? en : zh;
}

/** A deviation outcome of the report ledger (`confirmed`, `dismissed`, …) through the UI messages. */
export const outcomeName = (o: string): string => t(o);

// District names seen in API rows (queue, registry), for screens whose API carries only an id or only
// the Chinese name (regulation lists and reports).
const knownDistricts = reactive(new Map<string, { zh: string; en: string }>());
export function rememberDistricts(
  rows: readonly {
    districtId?: string | null;
    districtNameZh?: string | null;
    districtNameEn?: string | null;
  }[],
): void {
  for (const r of rows) {
    if (r.districtId && r.districtNameZh)
      knownDistricts.set(r.districtId, { zh: r.districtNameZh, en: r.districtNameEn ?? r.districtNameZh });
  }
}
export const districtsKnown = (): boolean => knownDistricts.size > 0;
/** The district's name in the current language, else `fallback` (e.g. the report's Chinese name), else the id. */
export function districtNameById(id: string | null | undefined, fallback?: string | null): string {
  if (!id) return fallback ?? '';
  const n = knownDistricts.get(id);
  if (n) return lang.value === 'zh' ? n.zh : n.en;
  return fallback ?? id;
}

/** An evidence series (see the console's evidence.ts): factor, interval and statistic, or the meter and its role. */
export function seriesName(s: {
  name: string;
  siteId: string;
  factor: string;
  interval: string;
  field: string;
  role?: string;
}): string {
  const what = [factorName(s.factor), enumName(s.interval), enumName(s.field)].filter(Boolean).join(' ');
  if (s.role) return `${s.siteId} ${enumName(s.role)} ${what}`;
  return what || s.name;
}

/** What each engine rule found, in Chinese; keyed by the domain rule in `evidence.params.domainRule`. */
const FINDINGS: Readonly<Record<string, string>> = {
  exceedance: '有效均值超过排放限值',
  'treatment-idle': '生产设施运行期间污染治理设施未运行',
  'treatment-late-start': '污染治理设施晚于生产设施启动',
  'treatment-early-stop': '污染治理设施早于生产设施停运',
  flatline: '监测数据长时间不变（恒值）',
  'zero-while-running': '排口有流量时监测值为零',
  'out-of-range': '监测值为负、超出仪器量程或标记为 T',
  offline: '设备未上传数据',
  'low-capture': '小时数据采集率低于要求',
  'fault-flag': '故障或通讯异常标记（D/B）持续过长',
  'manual-flag': '监测污染物出现手工输入值（标记 S）',
  'maintenance-overrun': '维护标记（M）超出申报的维护时段',
  'o2-near-ambient': '报送污染物数据时氧含量接近空气',
  'clustered-below-limit': '小时均值集中在限值以下附近',
  'inconsistent-aggregate': '上报的统计值与重新计算值不一致',
  'annual-load': '年度累计排放量超过许可排放量的时间进度',
  'production-emission': '排放量与生产用电不匹配（大数据比对）',
  peers: '与同工艺排口相比明显异常（同行比对）',
  'cross-device': '同一排口的氧含量、流量、烟温或不同设备的数据相互矛盾（多设备一致性）',
  'remote-sensing': '遥感热点或烟羽出现在停产企业或无监测数据的排放口附近',
  'discharge-outside-hours': '视频监控发现排口在非许可时段排放',
};

/** The annual-load figures in Chinese: year-to-date, pro-rata share and permit (kg), as of a Beijing time. */
function annualLoadFigures(p: Record<string, unknown>): string {
  const kg = (v: unknown) => (typeof v === 'number' ? `${v} kg` : '—');
  return `（截至 ${String(p.asOfText)} 累计 ${kg(p.ytdKg)}，按时间进度 ${kg(p.proRataKg)}，许可排放量 ${kg(p.permitKg)}）`;
}

/** The cross-check's figures in Chinese: per measure the low hours of hard production and the ratio's robust z. */
function productionEmissionFigures(p: Record<string, unknown>): string {
  const metrics = Array.isArray(p.metrics)
    ? (p.metrics as { metric: string; lowHours: number; hardHours: number; ratio: { z: number } | null }[])
    : [];
  const name = (m: string) => (m === 'flow' ? '流量' : '排放量');
  const parts = metrics.map(
    (m) =>
      `${name(m.metric)}：高负荷 ${m.hardHours} 小时中 ${m.lowHours} 小时偏低，稳健 z 值 ${m.ratio?.z ?? '—'}`,
  );
  return `（${String(p.dayText ?? '').slice(0, 10)}；${parts.join('；')}）`;
}

/** The video alarm in Chinese: camera, Beijing time, platform's alarm id and whether a snapshot was kept. */
function videoAlarmFigures(p: Record<string, unknown>): string {
  const snap = p.snapshot as { sha256?: string } | null | undefined;
  return `（摄像机 ${String(p.platform)}/${String(p.cameraId)}，${String(p.alarmTimeText ?? '')}，告警 ${String(p.platformEventId)}；${snap?.sha256 ? '有抓拍图' : '无抓拍图'}）`;
}

/** The peers check's flagged figures in Chinese, each with its peers' median and robust z (the domain's words). */
function peersFigures(p: Record<string, unknown>): string {
  const figures = Array.isArray(p.figures) ? (p.figures as { flagged?: boolean; zh?: string }[]) : [];
  const flagged = figures.filter((f) => f.flagged && typeof f.zh === 'string').map((f) => f.zh);
  return `（${String(p.toText ?? '').slice(0, 10)} 前 ${String(p.windowDays ?? '')} 天；${flagged.join('；')}）`;
}

/** The cross-device check's flagged figures in Chinese (the domain's words), with the day. */
function crossDeviceFigures(p: Record<string, unknown>): string {
  const figures = Array.isArray(p.figures) ? (p.figures as { flagged?: boolean; zh?: string }[]) : [];
  const flagged = figures.filter((f) => f.flagged && typeof f.zh === 'string').map((f) => f.zh);
  return `（${String(p.dayText ?? '').slice(0, 10)}；${flagged.join('；')}）`;
}

interface EvidenceView {
  summary?: string;
  values?: readonly { value: number; limit?: number }[];
  params?: Record<string, unknown>;
}

/**
 * The analyzer's one-line explanation in the current language. The event carries an English summary and
 * the rule's parameters (schemas/deviation.v1.schema.json); Chinese is composed here from the domain rule,
 * the site and factor, and the highest value against its limit when the evidence has one.
 */
export function evidenceSummary(c: {
  rule: string;
  siteId?: string | null;
  factor?: string | null;
  evidence?: EvidenceView | null;
}): string {
  const ev = c.evidence ?? {};
  if (lang.value === 'en') return ev.summary ?? ruleName(c.rule);
  const domainRule = typeof ev.params?.domainRule === 'string' ? ev.params.domainRule : c.rule;
  const annual = domainRule === 'annual-load' ? (ev.params ?? {}) : null;
  const finding =
    annual?.state === 'exceeded'
      ? '年度累计排放量超过许可排放量'
      : (FINDINGS[domainRule] ?? ruleName(c.rule));
  const where = [c.siteId, factorName(c.factor)].filter(Boolean).join(' ');
  const worst = (ev.values ?? [])
    .filter((v) => typeof v.limit === 'number')
    .reduce<{ value: number; limit?: number } | null>((m, v) => (m && m.value >= v.value ? m : v), null);
  const numbers = annual
    ? annualLoadFigures(annual)
    : domainRule === 'production-emission'
      ? productionEmissionFigures(ev.params ?? {})
      : domainRule === 'peers'
        ? peersFigures(ev.params ?? {})
        : domainRule === 'cross-device'
          ? crossDeviceFigures(ev.params ?? {})
          : domainRule === 'discharge-outside-hours'
            ? videoAlarmFigures(ev.params ?? {})
            : worst
              ? `（最高 ${worst.value}，限值 ${worst.limit}）`
              : '';
  const retracted = ev.params?.retracted === true ? '（已撤回：后续数据不再支持）' : '';
  return `${finding}：${where}${numbers}${retracted}`;
}
