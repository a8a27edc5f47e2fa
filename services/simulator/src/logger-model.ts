/**
 * One data logger (数采仪) as a pure state machine: `tick(t)` samples its analysers at event time t
 * and returns the HJ 212 uploads due then — 2011 real-time data every realtimeIntervalS, 2051
 * minute data every minuteIntervalS, 2061 hourly and 2031 daily data at the end of their interval
 * (DataTime is the interval start), computed from the samples the logger kept, as a real logger does.
 * An outlet with realtimeIntervalS 0 uploads no real-time data: its analysers are still sampled
 * every SAMPLE_S for the minute statistics. A logger linked to treatment facilities also reports
 * their running status (`SBn-RS`, CN 2021) with each real-time upload (with each minute upload on a
 * minute-only outlet): 0 while the facility's meter is switched off (treatment-off scenario), else 1.
 */
import { shanghaiHour, startOfShanghaiDay } from '@offsite/domain/calendar';
import { hasLoadUnit, loadKg } from '@offsite/domain';
import {
  FACTOR_CODES_2005_TO_2017,
  dataCp,
  formatDataTime,
  formatQn,
  type CpItem,
  type DataReading,
  type PacketInput,
} from '@offsite/hj212';
import type { LoggerSpec } from './fleet.js';
import { Ar1, converted, factorModel, productionLoad, roundTo, type LoadProfile } from './patterns.js';
import { streamRng, type Rng } from './rng.js';
import { activeScenario, type Scenario } from './scenarios.js';

export type UploadCn = '2011' | '2021' | '2051' | '2061' | '2031';

/** Sampling period (s) of an outlet that uploads no real-time data (realtimeIntervalS 0). */
export const SAMPLE_S = 30;

export interface Upload {
  readonly mn: string;
  readonly enterpriseId: string;
  readonly cn: UploadCn;
  /** DataTime (ms): acquisition instant for 2011, interval start otherwise. */
  readonly dataTime: number;
  /** When the logger sends it (event time, ms). */
  readonly sentAt: number;
  readonly packet: PacketInput;
  /** Numeric values in the packet (for counting what was sent). */
  readonly values: number;
}

interface Sample {
  readonly value: number;
  readonly flag: string;
}

interface Stats {
  avg: number;
  min: number;
  max: number;
  cou: number | null;
  flag: string;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const CODE_2017_TO_2005: Record<string, string> = Object.fromEntries(
  Object.entries(FACTOR_CODES_2005_TO_2017).map(([old, neu]) => [neu, old]),
);

/** N when ≥ 75 % of the inputs are N, else the most frequent other flag. */
export function aggregateFlag(flags: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const f of flags) counts.set(f, (counts.get(f) ?? 0) + 1);
  const n = counts.get('N') ?? 0;
  if (flags.length === 0 || n / flags.length >= 0.75) return 'N';
  let best = 'N';
  let bestCount = -1;
  for (const [f, c] of counts) if (f !== 'N' && c > bestCount) [best, bestCount] = [f, c];
  return best;
}

export class DataLoggerModel {
  private readonly noise = new Map<string, Ar1>();
  private readonly white: Rng;
  private readonly targets = new Map<string, number>();
  private readonly minute = new Map<string, Sample[]>();
  private readonly hour = new Map<string, Stats[]>();
  private readonly day = new Map<string, Stats[]>();
  private readonly frozen = new Map<string, number>();
  private nextRealtime: number;
  /** Sampling period (ms): the real-time interval, or SAMPLE_S on a minute-only outlet. */
  private readonly sampleMs: number;
  private nextMinute: number;
  private nextHour: number;
  private nextDay: number;
  private seq = 0;

  constructor(
    readonly spec: LoggerSpec,
    private readonly profile: LoadProfile,
    private readonly scenarios: readonly Scenario[],
    seed: number,
    start: number,
  ) {
    const rng = streamRng(seed, `logger:${spec.mn}`);
    this.white = streamRng(seed, `logger-white:${spec.mn}`);
    for (const f of spec.factors) {
      this.noise.set(f, new Ar1(streamRng(seed, `noise:${spec.mn}:${f}`)));
      // Where the permit has a limit, the plant runs at 30–60 % of it.
      this.targets.set(f, 0.3 + 0.3 * rng.next());
    }
    const mi = spec.minuteIntervalS * 1000;
    const rt = spec.realtimeIntervalS > 0 ? spec.realtimeIntervalS * 1000 : Math.min(SAMPLE_S * 1000, mi);
    this.sampleMs = rt;
    this.nextRealtime = Math.ceil(start / rt) * rt;
    this.nextMinute = Math.floor(start / mi) * mi + mi;
    this.nextHour = Math.floor(start / HOUR) * HOUR + HOUR;
    this.nextDay = startOfShanghaiDay(start) + DAY;
  }

  /** Event time of the next thing this logger does. */
  nextDue(): number {
    return Math.min(this.nextRealtime, this.nextMinute);
  }

  /** All uploads due at or before t, in order. */
  advanceTo(t: number): Upload[] {
    const out: Upload[] = [];
    while (this.nextDue() <= t) {
      const now = this.nextDue();
      // A sample taken at a boundary belongs to the window that starts there: close first.
      if (this.nextMinute === now) {
        out.push(this.closeMinute(now));
        if (this.spec.realtimeIntervalS === 0 && this.spec.facilities.length > 0)
          out.push(this.facilityStatus(now));
        this.nextMinute += this.spec.minuteIntervalS * 1000;
        if (this.nextHour <= now) {
          out.push(this.closeHour(now));
          this.nextHour += HOUR;
        }
        if (this.nextDay <= now) {
          out.push(this.closeDay(now));
          this.nextDay += DAY;
        }
      }
      if (this.nextRealtime === now) {
        const rt = this.realtime(now);
        if (this.spec.realtimeIntervalS > 0) {
          out.push(rt);
          if (this.spec.facilities.length > 0) out.push(this.facilityStatus(now));
        }
        this.nextRealtime += this.sampleMs;
      }
    }
    return out;
  }

  private sampleAll(t: number): Map<string, Sample> {
    const load = productionLoad(this.profile, shanghaiHour(t));
    const maintenance = activeScenario(this.scenarios, 'maintenance', this.spec.mn, t);
    const flag = maintenance ? 'M' : 'N';
    const out = new Map<string, Sample>();
    const ref = this.spec.refO2Pct;
    let o2 = 0;
    for (const code of this.spec.factors) {
      const m = factorModel(code);
      const slow = this.noise.get(code)?.step() ?? 0;
      const fast = this.white.normal() * 0.015;
      const jitter = 1 + m.noise * slow + fast;
      let value: number;
      switch (m.kind) {
        case 'o2':
          value = ((ref ?? 7) + 1.2 - 1.5 * (load - 0.8)) * (1 + 0.03 * slow + fast / 3);
          o2 = value;
          break;
        case 'flow':
          value =
            m.typical *
            (0.25 + 0.75 * load) *
            jitter *
            (activeScenario(this.scenarios, 'emission-drop', this.spec.mn, t, code)?.ratio ?? 1);
          break;
        case 'aux':
          value = code === 'a01012' ? m.typical + 40 * load * jitter : m.typical * jitter;
          break;
        case 'pollutant': {
          const limit = this.spec.limits[code];
          const exceed = activeScenario(this.scenarios, 'exceedance', this.spec.mn, t, code);
          const fraction = exceed ? exceed.ratio : (this.targets.get(code) ?? 0.4);
          const base = limit ? limit.value * fraction : m.typical * (0.85 + 0.15 * load);
          const target = base * (exceed ? 1 + 0.02 * fast : jitter);
          // The limit applies to the converted concentration: back out the measured one.
          value = limit?.converted && ref !== null && o2 > 0 ? (target * (21 - o2)) / (21 - ref) : target;
          break;
        }
      }
      // Flue pressure may be negative; nothing else is.
      value = roundTo(code === 'a01013' ? value : Math.max(0, value), m.precision);
      const flat = activeScenario(this.scenarios, 'flatline', this.spec.mn, t, code);
      if (flat) {
        const key = `${flat.from}:${code}`;
        if (!this.frozen.has(key)) this.frozen.set(key, value);
        value = this.frozen.get(key) as number;
      }
      out.set(code, { value, flag });
    }
    return out;
  }

  private code(code: string): string {
    return this.spec.protocolVersion === 2005 ? (CODE_2017_TO_2005[code] ?? code) : code;
  }

  private header(cn: UploadCn, sentAt: number, cp: PacketInput['cp']): PacketInput {
    const v = this.spec.protocolVersion;
    // QN identifies the exchange; uploads made at the same instant get distinct milliseconds.
    const qnTime = new Date(sentAt + (this.seq++ % 1000));
    const qn = v === 2005 ? null : formatQn(qnTime);
    const flag = v === 2005 ? null : ((v === 2025 ? 2 : 1) << 2) | 1;
    return { qn, st: this.spec.st, cn, pw: this.spec.password, mn: this.spec.mn, flag, cp };
  }

  private zsFactor(code: string): boolean {
    return (
      this.spec.kind === 'gas' && this.spec.refO2Pct !== null && this.spec.limits[code]?.converted === true
    );
  }

  private realtime(t: number): Upload {
    const samples = this.sampleAll(t);
    const readings: DataReading[] = [];
    const flags: Record<string, string> = {};
    const o2 = samples.get('a19001')?.value;
    for (const [code, s] of samples) {
      const m = factorModel(code);
      readings.push({ code: this.code(code), stat: 'Rtd', value: s.value.toFixed(m.precision) });
      if (this.zsFactor(code) && o2 !== undefined && this.spec.refO2Pct !== null && o2 < 19.5)
        readings.push({
          code: this.code(code),
          stat: 'ZsRtd',
          value: roundTo(converted(s.value, o2, this.spec.refO2Pct), m.precision).toFixed(m.precision),
        });
      flags[this.code(code)] = s.flag;
      const buf = this.minute.get(code) ?? [];
      buf.push(s);
      this.minute.set(code, buf);
    }
    return this.upload('2011', t, t, readings, flags);
  }

  /** CN 2021: `SBn-RS` of every linked treatment facility at t (DataTime = t). */
  private facilityStatus(t: number): Upload {
    const items: CpItem[] = [[{ key: 'DataTime', value: formatDataTime(new Date(t)) }]];
    for (const f of this.spec.facilities) {
      const off = activeScenario(this.scenarios, 'treatment-off', f.meterId, t);
      items.push([{ key: `${f.code}-RS`, value: off ? '0' : '1' }]);
    }
    return {
      mn: this.spec.mn,
      enterpriseId: this.spec.enterpriseId,
      cn: '2021',
      dataTime: t,
      sentAt: t,
      packet: this.header('2021', t, items),
      values: this.spec.facilities.length,
    };
  }

  private stats(code: string, samples: readonly Sample[], periodH: number): Stats {
    const values = samples.map((s) => s.value);
    const avg = values.reduce((a, b) => a + b, 0) / Math.max(values.length, 1);
    return {
      avg,
      min: Math.min(...values),
      max: Math.max(...values),
      cou: factorModel(code).kind === 'flow' ? avg * periodH : null,
      flag: aggregateFlag(samples.map((s) => s.flag)),
    };
  }

  private aggregateUpload(cn: UploadCn, start: number, t: number, byCode: Map<string, Stats>): Upload {
    const readings: DataReading[] = [];
    const flags: Record<string, string> = {};
    const o2 = byCode.get('a19001')?.avg;
    // The period's flow volume (m³), for the pollutants' loads of hourly and daily data.
    const flowM3 =
      this.spec.sendsLoadCou && (cn === '2061' || cn === '2031')
        ? byCode.get(this.spec.kind === 'gas' ? 'a00000' : 'w00000')?.cou
        : undefined;
    for (const [code, s] of byCode) {
      const m = factorModel(code);
      const c = this.code(code);
      const fmt = (x: number) => roundTo(x, m.precision).toFixed(m.precision);
      readings.push({ code: c, stat: 'Min', value: fmt(s.min) });
      readings.push({ code: c, stat: 'Avg', value: fmt(s.avg) });
      readings.push({ code: c, stat: 'Max', value: fmt(s.max) });
      if (s.cou !== null) readings.push({ code: c, stat: 'Cou', value: fmt(s.cou) });
      else if (flowM3 != null && m.kind === 'pollutant' && hasLoadUnit(m.unit))
        readings.push({ code: c, stat: 'Cou', value: roundTo(loadKg(s.avg, m.unit, flowM3), 4).toFixed(4) });
      if (this.zsFactor(code) && o2 !== undefined && o2 < 19.5 && this.spec.refO2Pct !== null)
        readings.push({ code: c, stat: 'ZsAvg', value: fmt(converted(s.avg, o2, this.spec.refO2Pct)) });
      flags[c] = s.flag;
    }
    return this.upload(cn, start, t, readings, flags);
  }

  private closeMinute(t: number): Upload {
    const period = this.spec.minuteIntervalS * 1000;
    const byCode = new Map<string, Stats>();
    for (const code of this.spec.factors) {
      const samples = this.minute.get(code) ?? [];
      if (samples.length === 0) continue;
      const s = this.stats(code, samples, period / HOUR);
      byCode.set(code, s);
      const h = this.hour.get(code) ?? [];
      h.push(s);
      this.hour.set(code, h);
    }
    this.minute.clear();
    return this.aggregateUpload('2051', t - period, t, byCode);
  }

  private rollUp(from: Map<string, Stats[]>, into: Map<string, Stats[]> | null): Map<string, Stats> {
    const byCode = new Map<string, Stats>();
    for (const [code, parts] of from) {
      if (parts.length === 0) continue;
      const s: Stats = {
        avg: parts.reduce((a, p) => a + p.avg, 0) / parts.length,
        min: Math.min(...parts.map((p) => p.min)),
        max: Math.max(...parts.map((p) => p.max)),
        cou: parts[0]?.cou === null ? null : parts.reduce((a, p) => a + (p.cou ?? 0), 0),
        flag: aggregateFlag(parts.map((p) => p.flag)),
      };
      byCode.set(code, s);
      if (into) {
        const next = into.get(code) ?? [];
        next.push(s);
        into.set(code, next);
      }
    }
    from.clear();
    return byCode;
  }

  private closeHour(t: number): Upload {
    return this.aggregateUpload('2061', t - HOUR, t, this.rollUp(this.hour, this.day));
  }

  private closeDay(t: number): Upload {
    return this.aggregateUpload('2031', t - DAY, t, this.rollUp(this.day, null));
  }

  private upload(
    cn: UploadCn,
    dataTime: number,
    sentAt: number,
    readings: DataReading[],
    flags: Record<string, string>,
  ): Upload {
    const cp = dataCp(new Date(dataTime), readings, flags);
    return {
      mn: this.spec.mn,
      enterpriseId: this.spec.enterpriseId,
      cn,
      dataTime,
      sentAt,
      packet: this.header(cn, sentAt, cp),
      values: readings.length,
    };
  }
}
