import { formatShanghai } from '@offsite/domain/calendar';
import type { Language } from './channel.js';
import { fitSms, smsLength } from './sms-segments.js';

/** What a notification is about. Rule keys are the deviation.v1 rule names. */
export interface ReminderItem {
  rule: string;
  factor?: string;
  severity: string;
  /** Outlet or meter, by name. */
  facility: { zh: string; en?: string };
  openedAt: Date;
  resolvedAt?: Date;
  /** Evidence lines already chosen by the caller (the values that triggered the rule). */
  evidence: { time: Date; factor: string; stat: string; value: number; limit?: number; flag?: string }[];
  summary: string;
}

export type ReminderKind = 'reminder' | 'escalation' | 'resolved' | 'supervisor-alert';

export interface ReminderModel {
  kind: ReminderKind;
  round: number;
  bureau: { zh: string; en: string };
  enterprise: { zh: string; en?: string };
  recipientName?: string;
  items: ReminderItem[];
  /** The enterprise is within its resumption-of-work window (复工复产). */
  resumption?: { date?: string };
  ackUrl?: string;
  ackExpiresAt?: Date;
  /** For escalations: when the enterprise was first reminded. */
  firstRemindedAt?: Date;
}

export interface RenderedMessage {
  subject: string;
  text: string;
  html: string;
  sms: { template: string; params: Record<string, string>; text: string };
}

const RULES: Record<string, { zh: string; en: string }> = {
  exceedance: { zh: '排放超标', en: 'emission limit exceeded' },
  'treatment-idle': { zh: '产治污不同步（治污设施未运行）', en: 'treatment idle while producing' },
  'treatment-late-start': { zh: '治污设施晚开', en: 'treatment started late' },
  'treatment-early-stop': { zh: '治污设施早停', en: 'treatment stopped early' },
  flatline: { zh: '监测数据恒值', en: 'flatline data' },
  'zero-while-running': { zh: '生产期间监测值为零', en: 'zero values while running' },
  'out-of-range': { zh: '监测值超量程或为负', en: 'value out of range' },
  offline: { zh: '监测设备断线', en: 'monitoring device offline' },
  'low-capture': { zh: '数据传输率偏低', en: 'low data capture' },
  'abnormal-flag': { zh: '数据标记异常', en: 'abnormal data flags' },
  'o2-near-ambient': { zh: '含氧量接近空气值', en: 'O2 near ambient' },
  'clustered-below-limit': { zh: '监测值贴近限值（平顶）', en: 'values clustered below the limit' },
  'inconsistent-aggregate': { zh: '折算/均值计算不一致', en: 'inconsistent aggregates' },
  'annual-load': { zh: '年度排放量超许可排放量进度', en: 'annual emission load ahead of the permit' },
  'production-emission': { zh: '排放与生产用电不匹配', en: 'emissions out of line with production energy' },
  peers: { zh: '与同工艺排口明显不同（同行比对）', en: 'far off the outlets of the same process' },
  'cross-device': {
    zh: '同一排口的监测数据相互矛盾（多设备一致性）',
    en: 'readings of one stack that cannot all be true',
  },
  'remote-sensing': { zh: '遥感发现异常排放迹象', en: 'remote sensing saw an emission sign' },
  'discharge-outside-hours': {
    zh: '视频监控发现非许可时段排放',
    en: 'discharge outside permitted hours seen on video',
  },
};

const FACTORS: Record<string, { zh: string; en: string }> = {
  a21026: { zh: '二氧化硫', en: 'SO2' },
  a21002: { zh: '氮氧化物', en: 'NOx' },
  a34013: { zh: '颗粒物', en: 'particulate' },
  a19001: { zh: '含氧量', en: 'O2' },
  a00000: { zh: '废气流量', en: 'flue gas flow' },
  w01018: { zh: '化学需氧量', en: 'COD' },
  w21003: { zh: '氨氮', en: 'NH3-N' },
  w21011: { zh: '总磷', en: 'TP' },
  w21001: { zh: '总氮', en: 'TN' },
  w01001: { zh: 'pH值', en: 'pH' },
  w00000: { zh: '废水流量', en: 'wastewater flow' },
};

const SEVERITY: Record<string, { zh: string; en: string }> = {
  info: { zh: '提示', en: 'info' },
  low: { zh: '轻微', en: 'low' },
  medium: { zh: '一般', en: 'medium' },
  high: { zh: '严重', en: 'high' },
  critical: { zh: '紧急', en: 'critical' },
};

export function ruleLabel(rule: string, lang: Language): string {
  return RULES[rule]?.[lang] ?? rule;
}

export function factorLabel(code: string, lang: Language): string {
  const f = FACTORS[code];
  return f ? `${f[lang]}(${code})` : code;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function name(v: { zh: string; en?: string }, lang: Language): string {
  return lang === 'en' ? (v.en ?? v.zh) : v.zh;
}

function evidenceLine(e: ReminderItem['evidence'][number], lang: Language): string {
  const limit = e.limit === undefined ? '' : lang === 'zh' ? `，限值 ${e.limit}` : `, limit ${e.limit}`;
  const flag = e.flag ? (lang === 'zh' ? `，标记 ${e.flag}` : `, flag ${e.flag}`) : '';
  return `${formatShanghai(e.time)} ${factorLabel(e.factor, lang)} ${e.stat}=${e.value}${limit}${flag}`;
}

const MAX_EVIDENCE = 6;

function itemLines(item: ReminderItem, lang: Language): string[] {
  const head =
    lang === 'zh'
      ? `【${ruleLabel(item.rule, 'zh')}】设施：${name(item.facility, 'zh')}${item.factor ? `，因子：${factorLabel(item.factor, 'zh')}` : ''}，级别：${SEVERITY[item.severity]?.zh ?? item.severity}，自 ${formatShanghai(item.openedAt)} 起（北京时间）${item.resolvedAt ? `，已于 ${formatShanghai(item.resolvedAt)} 恢复` : ''}`
      : `[${ruleLabel(item.rule, 'en')}] facility: ${name(item.facility, 'en')}${item.factor ? `, factor: ${factorLabel(item.factor, 'en')}` : ''}, severity: ${item.severity}, since ${formatShanghai(item.openedAt)} (UTC+8)${item.resolvedAt ? `, cleared at ${formatShanghai(item.resolvedAt)}` : ''}`;
  const ev = item.evidence.slice(0, MAX_EVIDENCE).map((e) => `  · ${evidenceLine(e, lang)}`);
  const more =
    item.evidence.length > MAX_EVIDENCE
      ? [
          lang === 'zh'
            ? `  · 另有 ${item.evidence.length - MAX_EVIDENCE} 条数据`
            : `  · ${item.evidence.length - MAX_EVIDENCE} more values`,
        ]
      : [];
  const label = lang === 'zh' ? '  依据数据：' : '  Evidence:';
  return [head, ...(ev.length ? [label, ...ev, ...more] : [])];
}

function subjectOf(m: ReminderModel, lang: Language): string {
  const ent = name(m.enterprise, lang);
  const first = m.items[0];
  const rule = first ? ruleLabel(first.rule, lang) : '';
  const more =
    m.items.length > 1 ? (lang === 'zh' ? `等${m.items.length}项` : ` and ${m.items.length - 1} more`) : '';
  if (lang === 'zh') {
    switch (m.kind) {
      case 'reminder':
        return `【${m.bureau.zh}】${m.round > 1 ? `第${m.round}次` : ''}提醒：${ent}${rule}${more}`;
      case 'escalation':
        return `【${m.bureau.zh}】督办：${ent}${rule}${more}，企业未确认`;
      case 'resolved':
        return `【${m.bureau.zh}】已恢复：${ent}${rule}${more}`;
      case 'supervisor-alert':
        return `【${m.bureau.zh}】疑似数据造假线索：${ent}${rule}${more}`;
    }
  }
  switch (m.kind) {
    case 'reminder':
      return `[${m.bureau.en}] ${m.round > 1 ? `Reminder #${m.round}` : 'Reminder'}: ${ent} — ${rule}${more}`;
    case 'escalation':
      return `[${m.bureau.en}] Escalation: ${ent} — ${rule}${more}, not acknowledged`;
    case 'resolved':
      return `[${m.bureau.en}] Resolved: ${ent} — ${rule}${more}`;
    case 'supervisor-alert':
      return `[${m.bureau.en}] Suspected data falsification: ${ent} — ${rule}${more}`;
  }
}

function introOf(m: ReminderModel, lang: Language): string[] {
  const ent = name(m.enterprise, lang);
  const greet = m.recipientName
    ? lang === 'zh'
      ? `${m.recipientName}：您好！`
      : `Dear ${m.recipientName},`
    : '';
  const lines: string[] = greet ? [greet] : [];
  if (lang === 'zh') {
    if (m.kind === 'reminder')
      lines.push(
        `${m.bureau.zh}非现场监管系统发现贵单位（${ent}）存在以下异常，请立即核查治污设施和监测设备运行情况：`,
      );
    if (m.kind === 'escalation')
      lines.push(
        `${ent}的以下异常${m.firstRemindedAt ? `自 ${formatShanghai(m.firstRemindedAt)} 提醒后` : ''}企业仍未确认，请督促整改：`,
      );
    if (m.kind === 'resolved') lines.push(`${ent}的以下异常已恢复正常，感谢配合：`);
    if (m.kind === 'supervisor-alert')
      lines.push(`系统在${ent}的监测数据中发现疑似弄虚作假线索（未通知企业），请审核：`);
    if (m.resumption && m.kind !== 'supervisor-alert')
      lines.push(
        `贵单位${m.resumption.date ? `于 ${m.resumption.date} 复工复产，` : ''}目前处于复工复产过渡期，治污设施须与生产设施同步运行，系统已缩短异常确认时间。`,
      );
  } else {
    if (m.kind === 'reminder')
      lines.push(
        `The off-site supervision system of ${m.bureau.en} found the following deviations at ${ent}. Please check your treatment facilities and monitoring devices now:`,
      );
    if (m.kind === 'escalation')
      lines.push(
        `${ent} has not acknowledged the following deviations${m.firstRemindedAt ? ` since the reminder of ${formatShanghai(m.firstRemindedAt)}` : ''}; please follow up:`,
      );
    if (m.kind === 'resolved') lines.push(`The following deviations at ${ent} have cleared. Thank you:`);
    if (m.kind === 'supervisor-alert')
      lines.push(
        `Suspected data falsification found in ${ent}'s monitoring data (the enterprise was not notified). Please review:`,
      );
    if (m.resumption && m.kind !== 'supervisor-alert')
      lines.push(
        `Your enterprise ${m.resumption.date ? `resumed work on ${m.resumption.date} and ` : ''}is in its resumption window: treatment facilities must run whenever production runs, and deviations are confirmed sooner.`,
      );
  }
  return lines;
}

function ackLines(m: ReminderModel, lang: Language): string[] {
  if (!m.ackUrl) return [];
  const exp = m.ackExpiresAt ? formatShanghai(m.ackExpiresAt) : '';
  return lang === 'zh'
    ? [
        `请点击以下链接确认收到、说明原因并填写预计整改完成时间${exp ? `（链接 ${exp} 前有效）` : ''}：`,
        m.ackUrl,
      ]
    : [
        `Please confirm receipt, explain the cause and give the expected fix time here${exp ? ` (valid until ${exp} UTC+8)` : ''}:`,
        m.ackUrl,
      ];
}

/** Renders subject, text, HTML and the SMS form of a reminder in one language. */
export function renderReminder(
  m: ReminderModel,
  lang: Language,
  opts: { smsSignName?: string; smsMaxParts?: number } = {},
): RenderedMessage {
  const subject = subjectOf(m, lang);
  const intro = introOf(m, lang);
  const items = m.items.flatMap((it, i) =>
    itemLines(it, lang).map((l, j) => (j === 0 ? `${i + 1}. ${l}` : l)),
  );
  const ack = ackLines(m, lang);
  const footer =
    lang === 'zh'
      ? [`—— ${m.bureau.zh}（系统自动发送，请勿直接回复）`]
      : [`— ${m.bureau.en} (automated message, do not reply)`];
  const text = [...intro, '', ...items, '', ...(ack.length ? [...ack, ''] : []), ...footer].join('\n');
  const html = `<!doctype html><html lang="${lang === 'zh' ? 'zh-CN' : 'en'}"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head><body>${intro.map((l) => `<p>${escapeHtml(l)}</p>`).join('')}<ol>${m.items
    .map((it) => {
      const [head, ...rest] = itemLines(it, lang);
      return `<li><p>${escapeHtml(head ?? '')}</p>${
        rest.length
          ? `<ul>${rest
              .slice(1)
              .map((l) => `<li>${escapeHtml(l.replace(/^\s*· /, ''))}</li>`)
              .join('')}</ul>`
          : ''
      }</li>`;
    })
    .join(
      '',
    )}</ol>${m.ackUrl ? `<p>${escapeHtml(ack[0] ?? '')}<br><a href="${escapeHtml(m.ackUrl)}">${escapeHtml(m.ackUrl)}</a></p>` : ''}<p>${escapeHtml(footer[0] ?? '')}</p></body></html>`;

  const first = m.items[0];
  const params: Record<string, string> = {
    enterprise: name(m.enterprise, lang),
    facility: first ? name(first.facility, lang) : '',
    rule: first
      ? ruleLabel(first.rule, lang) +
        (m.items.length > 1 ? (lang === 'zh' ? `等${m.items.length}项` : ` +${m.items.length - 1}`) : '')
      : '',
    time: first ? formatShanghai(first.openedAt) : '',
    link: m.ackUrl ?? '',
  };
  const resumption = m.resumption
    ? lang === 'zh'
      ? '贵单位处于复工复产期，'
      : 'You are in the resumption window; '
    : '';
  const smsTemplate = `${m.kind}${m.resumption ? '-resumption' : ''}`;
  const smsRaw =
    lang === 'zh'
      ? {
          reminder: `${params.enterprise}${params.facility}自${params.time}起${params.rule}。${resumption}请立即核查并确认：`,
          escalation: `督办：${params.enterprise}${params.facility}${params.rule}（${params.time}起）企业未确认，请跟进。`,
          resolved: `${params.enterprise}${params.facility}${params.rule}已恢复正常。`,
          'supervisor-alert': `疑似数据造假线索：${params.enterprise}${params.facility}${params.rule}（${params.time}起），请登录系统审核。`,
        }[m.kind]
      : {
          reminder: `${params.enterprise} ${params.facility}: ${params.rule} since ${params.time}. ${resumption}Please check and confirm: `,
          escalation: `Escalation: ${params.enterprise} ${params.facility} ${params.rule} (since ${params.time}) not acknowledged.`,
          resolved: `${params.enterprise} ${params.facility}: ${params.rule} cleared.`,
          'supervisor-alert': `Suspected falsification: ${params.enterprise} ${params.facility} ${params.rule} (since ${params.time}). Please review.`,
        }[m.kind];
  // The link is never cut (a cut link is useless): the text before it is fitted to what remains.
  const link = m.kind === 'reminder' ? (params.link ?? '') : '';
  const maxParts = opts.smsMaxParts ?? (link ? 4 : 2);
  const smsText = fitSms(smsRaw, maxParts, opts.smsSignName ?? '', smsLength(link)) + link;
  return { subject, text, html, sms: { template: smsTemplate, params, text: smsText } };
}

/**
 * A message its requester rendered as text (regulatory reminders, outreach): the HTML body is the text,
 * one paragraph per line, and the SMS goes out through the `regulation` template with the text as its
 * one parameter (SMS providers need a `regulation` template for it).
 */
export function renderPlainMessage(m: { subject: string; text: string; sms: string }): RenderedMessage {
  return {
    subject: m.subject,
    text: m.text,
    html: m.text
      .split('\n')
      .map((l) => `<p>${escapeHtml(l)}</p>`)
      .join(''),
    sms: { template: 'regulation', params: { text: m.sms }, text: m.sms },
  };
}
