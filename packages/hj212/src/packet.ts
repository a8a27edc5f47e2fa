/** The decoded packet and the interpretation of its CP items (values, flags, DataTime…). */
import type { CpItem } from './cp.js';
import type { CrcCheck } from './crc.js';
import { mapFactorCode } from './factor-codes.js';
import type { Irregularity } from './irregularities.js';
import { fail, ok, type Result } from './result.js';
import { parseShanghaiTime } from './time.js';

export type ProtocolVersion = '2005' | '2017' | '2025';

export const VERSION_BITS: Readonly<Record<ProtocolVersion, number>> = { '2005': 0, '2017': 1, '2025': 2 };

const VERSION_BY_BITS: Readonly<Record<number, ProtocolVersion>> = Object.fromEntries(
  Object.entries(VERSION_BITS).map(([v, b]) => [b, v as ProtocolVersion]),
);

/** The protocol version a Flag's version bits (bits 2–7) name, or null (no Flag, unknown bits). */
export function versionOfFlag(flag: number | null): ProtocolVersion | null {
  return flag === null ? null : (VERSION_BY_BITS[flag >> 2] ?? null);
}

/** Suffixes whose values are numbers; `RS`/`RT` are facility status and running hours (`SBxxx-RS`). */
export const NUMERIC_STATS = [
  'Rtd',
  'Min',
  'Avg',
  'Max',
  'Cou',
  'ZsRtd',
  'ZsMin',
  'ZsAvg',
  'ZsMax',
  'RS',
  'RT',
] as const;
export type NumericStat = (typeof NUMERIC_STATS)[number];

export interface Measurement {
  /** HJ 212-2017 factor code (mapped from 2005 when known). */
  readonly code: string;
  readonly stat: NumericStat;
  readonly value: number;
  /** The code as received, for 2005-style codes. */
  readonly originalCode?: string;
}

export interface TextField {
  readonly code: string;
  /** Suffix such as `Info`, `SampleTime`, or any suffix not known to be numeric. */
  readonly stat: string;
  readonly text: string;
  readonly originalCode?: string;
}

export interface PacketHeader {
  readonly qn: string | null;
  readonly st: string | null;
  readonly cn: string | null;
  readonly pw: string | null;
  readonly mn: string | null;
  readonly flag: number | null;
  readonly pnum: number | null;
  readonly pno: number | null;
}

export interface Packet extends PacketHeader {
  readonly cn: string;
  readonly st: string;
  readonly pw: string;
  readonly mn: string;
  readonly version: ProtocolVersion | null;
  readonly ackRequested: boolean;
  /** Flag bit D: the packet is one part of a split packet. */
  readonly split: boolean;
  /** DataTime as Asia/Shanghai ISO 8601 (`…+08:00`), and the same instant in UTC. */
  readonly dataTime: string | null;
  readonly dataTimeUtc: string | null;
  readonly values: readonly Measurement[];
  /** Data flag per factor code (`N F M S D C T B` or an extension). */
  readonly flags: Readonly<Record<string, string>>;
  readonly eflags: Readonly<Record<string, string>>;
  readonly texts: readonly TextField[];
  /** CP keys without a factor code, other than DataTime (RtdInterval, QnRtn, BeginTime, PolId…). */
  readonly params: Readonly<Record<string, string>>;
  readonly cp: readonly CpItem[];
  /** The data segment as received (with the CP still encrypted, if it was). */
  readonly segment: string;
  readonly segmentBytes: number;
  readonly declaredLength: number;
  readonly crc: CrcCheck;
  readonly irregularities: readonly Irregularity[];
}

const NUMERIC: ReadonlySet<string> = new Set(NUMERIC_STATS);
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

export function parseNumber(text: string): number | null {
  if (!NUMBER.test(text)) return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

export interface CpContent {
  readonly dataTime: string | null;
  readonly dataTimeUtc: string | null;
  readonly values: Measurement[];
  readonly flags: Record<string, string>;
  readonly eflags: Record<string, string>;
  readonly texts: TextField[];
  readonly params: Record<string, string>;
  readonly has2005Codes: boolean;
}

/** Sort CP fields into values, flags, texts and parameters; maps 2005 factor codes. */
export function interpretCp(items: readonly CpItem[]): Result<CpContent> {
  const values: Measurement[] = [];
  const flags: Record<string, string> = {};
  const eflags: Record<string, string> = {};
  const texts: TextField[] = [];
  const params: Record<string, string> = {};
  let dataTime: string | null = null;
  let dataTimeUtc: string | null = null;
  let has2005Codes = false;
  for (const item of items) {
    for (const { key, value } of item) {
      const dash = key.indexOf('-');
      if (dash < 0) {
        if (key === 'DataTime') {
          const t = parseShanghaiTime(value);
          if (!t) return fail('invalid-datatime', `DataTime "${value.slice(0, 40)}" is not YYYYMMDDhhmmss`);
          dataTime = t.local;
          dataTimeUtc = t.utc;
        } else {
          params[key] = value;
        }
        continue;
      }
      const rawCode = key.slice(0, dash);
      const stat = key.slice(dash + 1);
      const mapped = mapFactorCode(rawCode);
      const originalCode = mapped.originalCode;
      if (originalCode !== undefined) has2005Codes = true;
      if (NUMERIC.has(stat)) {
        const n = parseNumber(value);
        if (n === null) return fail('invalid-number', `${key}="${value.slice(0, 40)}" is not a number`);
        values.push(
          originalCode === undefined
            ? { code: mapped.code, stat: stat as NumericStat, value: n }
            : { code: mapped.code, stat: stat as NumericStat, value: n, originalCode },
        );
      } else if (stat === 'Flag') {
        flags[mapped.code] = value;
      } else if (stat === 'EFlag') {
        eflags[mapped.code] = value;
      } else {
        texts.push(
          originalCode === undefined
            ? { code: mapped.code, stat, text: value }
            : { code: mapped.code, stat, text: value, originalCode },
        );
      }
    }
  }
  return ok({ dataTime, dataTimeUtc, values, flags, eflags, texts, params, has2005Codes });
}
