// Helpers of the console's edit forms (registry upkeep, approvals, users): page-local messages in
// both languages, Asia/Shanghai wall-clock inputs sent as instants with their offset, and the API's
// bilingual, field-named errors shown in the chosen language.
import { computed, ref } from 'vue';
import { api, ApiError } from './api';
import { lang, SHANGHAI_MINUTE } from './i18n';

/** A page's own messages: `tt(key)` in the chosen language (zh-CN by default). */
export function messages<K extends string>(m: { zh: Record<K, string>; en: Record<K, string> }) {
  return (key: K): string => (lang.value === 'zh' ? m.zh : m.en)[key] ?? key;
}

/** `2026-03-05T08:00` typed on a page that says 北京时间 → `2026-03-05T08:00:00+08:00`. */
export function shanghaiInstant(local: string): string {
  if (!local) return '';
  return `${local.length === 16 ? `${local}:00` : local}+08:00`;
}

/** An instant (ms) on the Asia/Shanghai wall clock as `YYYY-MM-DDTHH:MM` (a datetime-local value). */
export function shanghaiLocal(ms: number): string {
  // sv-SE writes `YYYY-MM-DD HH:MM`.
  return new Intl.DateTimeFormat('sv-SE', SHANGHAI_MINUTE).format(new Date(ms)).replace(' ', 'T');
}

/** Now in Asia/Shanghai as `YYYY-MM-DDTHH:MM` (a datetime-local value). */
export function shanghaiNow(): string {
  return shanghaiLocal(Date.now());
}

/** The server's message in the chosen language (it sends `中文 / English`). */
export function errorText(e: unknown): string {
  if (!(e instanceof ApiError)) return String(e);
  if (!e.detail) return `${e.status} ${e.code}`;
  const [zh, en] = e.detail.split(' / ');
  return (lang.value === 'zh' ? zh : (en ?? zh)) ?? e.detail;
}

/** One form's request state: `run` sends, keeps the error (and its field) or the answer. */
export function useRequest() {
  const error = ref('');
  const field = ref('');
  const busy = ref(false);
  async function run<T>(method: string, url: string, body?: unknown): Promise<T | null> {
    error.value = '';
    field.value = '';
    busy.value = true;
    try {
      return await api<T>(method, url, body);
    } catch (e) {
      error.value = errorText(e);
      field.value = e instanceof ApiError ? (e.field ?? '') : '';
      return null;
    } finally {
      busy.value = false;
    }
  }
  return { error, field, busy, run };
}

/** A form's own message naming its field: `字段：消息` / `Field: message`, in the chosen language. */
export function named(label: string, message: string): string {
  return `${label}${lang.value === 'zh' ? '：' : ': '}${message}`;
}

/** The server's error keyed by the field it names (an ElFormItem's `error` shows it under the field). */
export function fieldErrors(req: ReturnType<typeof useRequest>) {
  return computed<Record<string, string>>(() =>
    req.field.value ? { [req.field.value]: req.error.value } : {},
  );
}

/** The request's error for the top of its form, unless it names one of `underField` (shown under that field). */
export function formError(req: ReturnType<typeof useRequest>, underField: string[]) {
  return computed(() => (underField.includes(req.field.value) ? '' : req.error.value));
}

/** An Element form rule: `label` must be given (`企业：必填` / `Enterprise: required`). */
export function requiredRule(label: string, trigger: 'blur' | 'change' = 'blur') {
  return { required: true, message: named(label, lang.value === 'zh' ? '必填' : 'required'), trigger };
}

/** el-date-picker for a Beijing date and time: shown `YYYY-MM-DD HH:mm`, valued `YYYY-MM-DDTHH:mm` (send it
 * through shanghaiInstant, which adds +08:00). */
export const DATETIME_PICKER = {
  type: 'datetime',
  format: 'YYYY-MM-DD HH:mm',
  valueFormat: 'YYYY-MM-DDTHH:mm',
  placeholder: 'YYYY-MM-DD HH:mm',
} as const;
/** el-date-picker for a Beijing date, shown and valued `YYYY-MM-DD`. */
export const DATE_PICKER = {
  type: 'date',
  format: 'YYYY-MM-DD',
  valueFormat: 'YYYY-MM-DD',
  placeholder: 'YYYY-MM-DD',
} as const;
