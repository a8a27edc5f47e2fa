// A case's audit trail in words: each action by its name, each recorded field by its name with its value (review
// states and decisions by name, instants on the Beijing clock), never the stored codes or JSON.
import { messages } from './forms';
import { fmtTime, lang, t } from './i18n';

const tt = messages({
  zh: {
    'case.acknowledge': '确认收到',
    'case.assign': '指派承办人',
    'case.comment': '添加意见',
    'case.request-rectification': '责令整改',
    'case.confirm': '认定违法',
    'case.dismiss': '误报排除',
    'case.escalate': '转现场检查',
    'case.close': '结案',
    'case.enterprise-ack': '企业回执',
    deviation_id: '案件编号',
    review_state: '处置状态',
    assignee_id: '承办人',
    rectification_due: '整改期限',
    decision: '认定结论',
    dismiss_reason: '排除原因',
    note: '说明',
    comment: '意见',
    removal_proposal_id: '正面清单移出建议',
    enterprise_ack_at: '企业回执时间',
    plannedFixAt: '计划整改完成时间',
  },
  en: {
    'case.acknowledge': 'Acknowledged',
    'case.assign': 'Assigned',
    'case.comment': 'Comment added',
    'case.request-rectification': 'Rectification requested',
    'case.confirm': 'Violation confirmed',
    'case.dismiss': 'Dismissed as a false alarm',
    'case.escalate': 'Escalated to on-site inspection',
    'case.close': 'Closed',
    'case.enterprise-ack': 'Enterprise acknowledgement',
    deviation_id: 'Case',
    review_state: 'Review state',
    assignee_id: 'Assignee',
    rectification_due: 'Rectification due',
    decision: 'Decision',
    dismiss_reason: 'Reason for dismissal',
    note: 'Note',
    comment: 'Comment',
    removal_proposal_id: 'Positive-list removal proposal',
    enterprise_ack_at: 'Enterprise acknowledged at',
    plannedFixAt: 'Planned fix by',
  },
});
type Key = Parameters<typeof tt>[0];

/** An audited action in words (`case.confirm` → 认定违法); an action without words here stays as recorded. */
export const auditAction = (action: string): string => tt(action as Key);

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** One recorded value: states and decisions by name, instants in Beijing time, nothing as `—`. */
function valueWords(field: string, v: unknown): string {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'string' && (field === 'review_state' || field === 'decision')) return t(v);
  if (typeof v === 'string' && INSTANT.test(v)) return fmtTime(v);
  if (field === 'removal_proposal_id') return `#${String(v)}`;
  if (typeof v === 'boolean') return v ? '✔' : '✘';
  if (Array.isArray(v)) return v.map((x) => valueWords(field, x)).join('、');
  if (typeof v === 'object') return `(${auditChange(v)})`;
  return String(v);
}

/** The fields of one side of an audit entry (before or after), each by its name: 处置状态：待审核；承办人：—. */
export function auditChange(v: unknown): string {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return valueWords('', v);
  const pairs = Object.entries(v as Record<string, unknown>);
  if (!pairs.length) return '—';
  const zh = lang.value === 'zh';
  return pairs
    .map(([k, x]) => `${tt(k as Key)}${zh ? '：' : ': '}${valueWords(k, x)}`)
    .join(zh ? '；' : '; ');
}
