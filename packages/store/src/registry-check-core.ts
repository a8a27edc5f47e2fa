// The reading side of the registry's cross-field check: values the schema accepted, the issues found,
// identifiers unique across the file.
import { formatBounds, inBounds, type GeoBounds, type GeoPosition } from './registry-geo.js';
import { join } from './registry-issues.js';
import { DATE_RE, INSTANT_RE, dateIssue, instantIssue } from './registry-schema.js';
import type { RegistryIssue, RegistryIssueCode } from './registry-types.js';

export type Obj = Record<string, unknown>;

/** Drops undefined properties so parsed objects compare and serialise cleanly. */
export function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export function realDate(y: number, m: number, d: number): boolean {
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/** Marks a value a required field failed to yield: the registry is only returned when there are no issues. */
export const MISSING = undefined as unknown as never;

export class Check {
  readonly issues: RegistryIssue[] = [];
  constructor(
    private readonly refused: ReadonlySet<string>,
    private readonly emptied: ReadonlySet<string>,
    private readonly cityBounds?: GeoBounds,
  ) {}

  add(path: string, code: RegistryIssueCode, message: string, messageZh: string): void {
    this.issues.push({ path, code, message, messageZh });
  }

  /** The field's value, unless the schema refused it. */
  get<T>(o: Obj, path: string, key: string): T | undefined {
    // A valid file (the common case) has nothing refused: no paths to build.
    if (this.refused.size > 0 && this.refused.has(join(path, key))) return undefined;
    return o[key] as T | undefined;
  }

  /** The items of a list field the schema accepted, each with its path. */
  each<T = Obj>(o: Obj, path: string, key: string, fn: (item: T, path: string) => void): void {
    const p = join(path, key);
    const items = this.get<unknown[]>(o, path, key) ?? [];
    items.forEach((item, i) => {
      const at = join(p, i);
      if (this.refused.size === 0 || !this.refused.has(at)) fn(item as T, at);
    });
  }

  /** A value required only in some cases (e.g. a resumption date when resuming). */
  requireIf(cond: boolean, o: Obj, path: string, key: string): void {
    const p = join(path, key);
    if (!cond || key in o || this.refused.has(p)) return;
    if (this.emptied.has(p)) this.add(p, 'required', 'must not be empty', '不能为空');
    else this.add(p, 'required', 'is required', '必填');
  }

  /** An instant, returned in UTC (`...Z`); the schema checked its form. */
  instant(o: Obj, path: string, key: string): string | undefined {
    const s = this.get<string>(o, path, key);
    if (s === undefined) return undefined;
    const m = INSTANT_RE.exec(s)!;
    const t = Date.parse(s);
    const ok =
      realDate(Number(m[1]), Number(m[2]), Number(m[3])) &&
      Number(m[4]) < 24 &&
      Number(m[5]) < 60 &&
      Number(m[6] ?? 0) < 60 &&
      !Number.isNaN(t);
    if (ok) return new Date(t).toISOString();
    this.add(join(path, key), 'format', ...instantIssue(s));
    return undefined;
  }

  /** A position (the schema checked its WGS-84 range), refused outside the city's bounds when they are given. */
  location(o: Obj, path: string, key: string): GeoPosition | undefined {
    const at = this.get<GeoPosition>(o, path, key);
    if (at === undefined || this.cityBounds === undefined || inBounds(this.cityBounds, at)) return at;
    const b = formatBounds(this.cityBounds);
    this.add(
      join(path, key),
      'outside-city',
      `position ${at.lat}, ${at.lon} lies outside the city (${b})`,
      `位置 ${at.lat}, ${at.lon} 不在本市范围内（${b}）`,
    );
    return undefined;
  }

  date(o: Obj, path: string, key: string): string | undefined {
    const s = this.get<string>(o, path, key);
    if (s === undefined) return undefined;
    const m = DATE_RE.exec(s)!;
    if (realDate(Number(m[1]), Number(m[2]), Number(m[3]))) return s;
    this.add(join(path, key), 'format', ...dateIssue(s));
    return undefined;
  }
}

/** Ids that must be unique across the whole file, with the path where each was first seen. */
export class Unique {
  private readonly seen = new Map<string, string>();
  constructor(
    private readonly c: Check,
    private readonly label: string,
    private readonly labelZh: string,
  ) {}
  check(value: string | undefined, path: string): void {
    if (value === undefined) return;
    const first = this.seen.get(value);
    if (first === undefined) this.seen.set(value, path);
    else
      this.c.add(
        path,
        'duplicate',
        `duplicate ${this.label} "${value}" (first at ${first})`,
        `${this.labelZh}重复："${value}"（首次出现于 ${first}）`,
      );
  }
}

export type Uniques = Record<
  'enterprise' | 'creditCode' | 'outlet' | 'mn' | 'meter' | 'violation' | 'window' | 'camera',
  Unique
>;
