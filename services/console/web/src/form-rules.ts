// Element form rules (built inside a `computed`, so they follow the language switch) the registry, portal-invitation and submission forms share: each message names its
// field in the chosen language (`新 MN：…` / `New MN: …`), as the server's errors do.
import { lang } from './i18n';
import { named } from './forms';

type Check = (_r: unknown, v: unknown, cb: (e?: Error) => void) => void;
const zh = () => lang.value === 'zh';

/** A rule from a test of the field's value (`ok(v)` false → `label：message`). */
export function checkRule(
  label: string,
  ok: (v: string) => boolean,
  message: string,
  trigger: 'blur' | 'change' = 'blur',
) {
  const validator: Check = (_r, v, cb) =>
    ok(v === null || v === undefined ? '' : String(v)) ? cb() : cb(new Error(named(label, message)));
  return { validator, trigger };
}

/** A whole number from `min` to `max` (a multiple of `step` when given); empty passes unless required. */
export function intRule(label: string, min: number, max: number, step = 1) {
  return checkRule(
    label,
    (v) => v === '' || (/^\d+$/.test(v) && Number(v) >= min && Number(v) <= max && Number(v) % step === 0),
    step === 1
      ? zh()
        ? `须为 ${min}–${max} 的整数`
        : `a whole number from ${min} to ${max}`
      : zh()
        ? `须为 ${min}–${max} 之间 ${step} 的整数倍`
        : `a multiple of ${step} from ${min} to ${max}`,
  );
}

/** A number above 0 (or at least 0 with `orZero`); empty passes unless required. */
export function positiveRule(label: string, orZero = false) {
  return checkRule(
    label,
    (v) => v === '' || (Number.isFinite(Number(v)) && (orZero ? Number(v) >= 0 : Number(v) > 0)),
    orZero
      ? zh()
        ? '须为不小于 0 的数'
        : 'a number of at least 0'
      : zh()
        ? '须为大于 0 的数'
        : 'a number above 0',
  );
}

/** At most `max` characters. */
export function maxRule(label: string, max: number) {
  return { max, message: named(label, `≤ ${max}`), trigger: 'blur' as const };
}

/** The value matches `re`; empty passes unless required. */
export function patternRule(label: string, re: RegExp, message: string) {
  return checkRule(label, (v) => v === '' || re.test(v), message);
}
