/**
 * The CP field (`CP=&&…&&`): `;` separates items, `,` separates fields of an item, `=` joins key and
 * value, `-` joins a factor code and its suffix, and `//…//` quotes free text that may contain
 * separators. Parsing is lossless (items keep their order) and never throws.
 */
import { fail, Hj212Error, ok, type Result } from './result.js';

export interface CpField {
  readonly key: string;
  readonly value: string;
}

export type CpItem = readonly CpField[];

export interface ParsedCp {
  readonly items: readonly CpItem[];
  /** True when empty items/fields or spaces around keys were skipped. */
  readonly stray: boolean;
}

const QUOTE = '//';

export function parseCp(content: string): Result<ParsedCp> {
  const items: CpField[][] = [];
  let stray = false;
  let item: CpField[] = [];
  let pos = 0;
  const n = content.length;
  const closeItem = (): void => {
    if (item.length === 0) stray = true;
    else items.push(item);
    item = [];
  };
  if (n === 0) return ok({ items, stray });
  for (;;) {
    // key
    let end = pos;
    while (end < n && content[end] !== '=' && content[end] !== ';' && content[end] !== ',') end++;
    const rawKey = content.slice(pos, end);
    if (end >= n || content[end] !== '=') {
      if (rawKey.trim() !== '') {
        return fail('cp-malformed', `CP field "${rawKey.slice(0, 40)}" has no "="`);
      }
      stray = true; // empty field between separators, or a trailing separator
      if (end >= n) {
        if (item.length > 0) items.push(item);
        break;
      }
      if (content[end] === ';') closeItem();
      pos = end + 1;
      continue;
    }
    const key = rawKey.trim();
    if (key !== rawKey) stray = true;
    if (key === '') return fail('cp-malformed', 'CP field with an empty key');
    pos = end + 1;
    // value
    let value: string;
    if (content.startsWith(QUOTE, pos)) {
      const close = content.indexOf(QUOTE, pos + QUOTE.length);
      if (close < 0) return fail('cp-malformed', `unterminated //…// text in CP field "${key}"`);
      value = content.slice(pos + QUOTE.length, close);
      pos = close + QUOTE.length;
      if (pos < n && content[pos] !== ';' && content[pos] !== ',') {
        return fail('cp-malformed', `text after //…// in CP field "${key}"`);
      }
    } else {
      let vend = pos;
      while (vend < n && content[vend] !== ';' && content[vend] !== ',') vend++;
      value = content.slice(pos, vend);
      pos = vend;
    }
    item.push({ key, value });
    if (pos >= n) {
      items.push(item);
      break;
    }
    if (content[pos] === ';') closeItem();
    pos++;
    if (pos >= n) {
      stray = true; // trailing separator
      if (item.length > 0) items.push(item);
      break;
    }
  }
  return ok({ items, stray });
}

/** Quote a value with `//…//` when it contains a separator. */
export function formatCpValue(value: string): string {
  if (!/[;,]/.test(value) && !value.startsWith(QUOTE)) return value;
  if (value.includes(QUOTE)) throw new Hj212Error('encode-invalid', `CP text cannot contain "//": ${value}`);
  return `${QUOTE}${value}${QUOTE}`;
}

const KEY = /^[^;,=&\s/]+$/;

export function formatCpKey(key: string): string {
  if (!KEY.test(key)) throw new Hj212Error('encode-invalid', `invalid CP key "${key}"`);
  return key;
}

export function formatCp(items: readonly CpItem[]): string {
  return items
    .map((item) => item.map((f) => `${formatCpKey(f.key)}=${formatCpValue(f.value)}`).join(','))
    .join(';');
}
