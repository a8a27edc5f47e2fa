// The cross-device consistency round (`judgeFlueGas` and `judgeDevices` of the domain): per outlet with an enabled
// device, the last whole Shanghai day. A flue-gas outlet's O2, flow and temperature from the analyzer's hourly
// aggregates (valid hours only); an outlet with two or more enabled devices, each device's minute data (`emission`,
// flag N) averaged per hour and compared pair by pair per factor. Each sub-check's judgement of an outlet-day — or why
// it could not judge — is recorded in `analyzer_cross_checks` (check `cross-device/flue-gas`, `cross-device/devices`);
// a flagged one opens one deviation per outlet, sub-check and day (deviation.v1 first, then the deviation log, as the
// annual-load round hands off), and each enterprise's `cross-device` risk component is rewritten from the findings of
// both recorded in the trailing 30 days. Judging the same day again emits nothing: the log already holds the id.
import {
  CROSS_DEVICE_CHECKS,
  CROSS_DEVICE_RULE,
  crossDeviceDeviation,
  crossDeviceDeviationId,
  FLUE_GAS_FACTORS,
  judgeDevices,
  judgeFlueGas,
  rulesFor,
  type CrossDeviceCheck,
  type CrossDeviceJudgement,
  type DeviceMinute,
  type FlueGasHour,
} from '@offsite/domain';
import { formatShanghai } from '@offsite/domain/calendar';
import { deviceMinutesQuery, hourAggregatesQuery } from '@offsite/influx';
import type { RegistrySnapshot } from '@offsite/store';
import { deviationHeads } from './analyzer-db.js';
import type { AnnualLoadJobOptions } from './annual-load-job.js';
import { recordCrossCheck, rewriteRiskComponents, RISK_POLICY } from './cross-check-db.js';
import {
  countVerdict,
  judgedDay,
  noCounts,
  handOffDeviation,
  recordCheckFailure,
  type CrossCheckCounts,
} from './cross-check-round.js';

/** The annual-load round's: the registry's outlets judged on InfluxDB's data, deviations handed off the same way. */
export type CrossDeviceJobOptions = AnnualLoadJobOptions;

/** The `analyzer_cross_checks` name of a sub-check. */
export const crossDeviceCheckName = (check: CrossDeviceCheck) => `${CROSS_DEVICE_RULE}/${check}`;

/** Outlets looked at; per sub-check, outlet-days flagged, clear and not judged. */
export interface CrossDeviceRound extends CrossCheckCounts {
  day: { start: number; end: number };
  outlets: number;
}

interface Checked {
  enterpriseId: string;
  siteId: string;
  kind: 'gas' | 'water';
  devices: string[];
}

function checkedOutlets(snapshot: RegistrySnapshot): Checked[] {
  const out: Checked[] = [];
  for (const e of snapshot.enterprises)
    for (const o of e.outlets) {
      const devices = o.devices.filter((d) => d.enabled).map((d) => d.mn);
      if (devices.length > 0) out.push({ enterpriseId: e.id, siteId: o.id, kind: o.kind, devices });
    }
  return out;
}

/** The day's valid hourly O2, flow and temperature of a stack. */
async function flueGasHours(
  opts: CrossDeviceJobOptions,
  o: Checked,
  day: { start: number; end: number },
): Promise<FlueGasHour[]> {
  const series = await opts.query(
    opts.bucket,
    hourAggregatesQuery(o.enterpriseId, [o.siteId], new Date(day.start), new Date(day.end)),
  );
  const byHour = new Map<number, FlueGasHour>();
  const key: Record<string, 'o2' | 'flow' | 'temperature'> = {
    [FLUE_GAS_FACTORS.o2]: 'o2',
    [FLUE_GAS_FACTORS.flow]: 'flow',
    [FLUE_GAS_FACTORS.temperature]: 'temperature',
  };
  for (const s of series) {
    const k = key[s.tags.factor ?? ''];
    if (!k) continue;
    for (const r of s.rows) {
      const start = Number(r.time);
      const h = byHour.get(start) ?? { start, o2: null, flow: null, temperature: null };
      if (r.valid === true && typeof r.value === 'number' && Number.isFinite(r.value)) h[k] = r.value;
      byHour.set(start, h);
    }
  }
  return [...byHour.values()].sort((a, b) => a.start - b.start);
}

/** The day's minute values of every device of the outlet. */
async function deviceMinutes(
  opts: CrossDeviceJobOptions,
  o: Checked,
  day: { start: number; end: number },
): Promise<DeviceMinute[]> {
  const series = await opts.query(
    opts.bucket,
    deviceMinutesQuery('emission', o.enterpriseId, o.siteId, new Date(day.start), new Date(day.end)),
  );
  const out: DeviceMinute[] = [];
  for (const s of series)
    for (const r of s.rows)
      if (typeof r.Avg === 'number')
        out.push({
          device: s.tags.device ?? '',
          factor: s.tags.factor ?? '',
          time: Number(r.time),
          value: r.Avg,
          flag: typeof r.flag === 'string' ? r.flag : null,
        });
  return out;
}

/** The words of an enterprise's cross-device reason, in both languages. */
function reasonWords(n: number, lastDay: number): { zh: string; en: string } {
  const day = formatShanghai(lastDay).slice(0, 10);
  return {
    zh: `近 ${RISK_POLICY.days} 天内有 ${n} 个排口日的监测数据相互矛盾（烟气氧含量、流量与烟温不符，或同一排口不同设备的数据不一致），最近一次为 ${day}`,
    en: `readings of one stack that cannot all be true on ${n} outlet-day${n === 1 ? '' : 's'} in the last ${RISK_POLICY.days} days (flue-gas O2, flow and temperature out of line, or two devices of one stack disagreeing); latest ${day}`,
  };
}

/** One round as of `now`: the last whole Shanghai day before now − the allowed lateness. */
export async function runCrossDeviceJob(
  opts: CrossDeviceJobOptions,
  snapshot: RegistrySnapshot,
  now: number,
): Promise<CrossDeviceRound> {
  const log = opts.logger.child({ component: CROSS_DEVICE_RULE });
  const day = judgedDay(now, opts.allowedLatenessMs);
  const round: CrossDeviceRound = { day, outlets: 0, ...noCounts() };
  const enterprises = new Set<string>();
  const head = { dayText: formatShanghai(day.start) };

  for (const o of checkedOutlets(snapshot)) {
    round.outlets++;
    enterprises.add(o.enterpriseId);
    const rules = rulesFor(opts.engineConfig, o.enterpriseId, o.siteId).crossDevice;
    const judge = async (check: CrossDeviceCheck): Promise<CrossDeviceJudgement> => {
      const no = (reason: 'disabled' | 'not-gas'): CrossDeviceJudgement => ({
        check,
        status: 'not-judged',
        reason,
        findings: [],
        figures: [],
        offHours: [],
      });
      if (!rules.enabled) return no('disabled');
      if (check === 'flue-gas')
        return o.kind === 'gas' ? judgeFlueGas(await flueGasHours(opts, o, day), rules) : no('not-gas');
      if (o.devices.length < 2) return judgeDevices([], o.devices, () => rules);
      return judgeDevices(
        await deviceMinutes(opts, o, day),
        o.devices,
        (factor) => rulesFor(opts.engineConfig, o.enterpriseId, o.siteId, factor).crossDevice,
      );
    };
    for (const check of CROSS_DEVICE_CHECKS) {
      const id = crossDeviceDeviationId(o.enterpriseId, o.siteId, check, day.start);
      try {
        const judgement = await judge(check);
        if (judgement.status === 'flagged') {
          const prev = (await deviationHeads(opts.db, [id])).get(id);
          const deviation = crossDeviceDeviation({
            enterpriseId: o.enterpriseId,
            siteId: o.siteId,
            day,
            judgement,
            previous: prev ? { revision: prev.revision } : null,
            rules,
          });
          if (deviation) await handOffDeviation(opts, deviation, now, round);
        }
        await recordCrossCheck(opts.db, {
          check: crossDeviceCheckName(check),
          enterpriseId: o.enterpriseId,
          siteId: o.siteId,
          dayStart: day.start,
          status: judgement.status,
          reason: judgement.reason,
          details: { ...head, devices: o.devices, ...judgement },
          deviationId: judgement.status === 'flagged' ? id : null,
        });
        countVerdict(round, judgement.status);
      } catch (err) {
        await recordCheckFailure(
          opts.db,
          log,
          round,
          {
            check: crossDeviceCheckName(check),
            enterpriseId: o.enterpriseId,
            siteId: o.siteId,
            dayStart: day.start,
            details: head,
          },
          err,
        );
      }
    }
  }
  await rewriteRiskComponents(
    opts.db,
    CROSS_DEVICE_RULE,
    [...enterprises],
    day.end,
    reasonWords,
    CROSS_DEVICE_CHECKS.map(crossDeviceCheckName),
  );
  log.info({ ...round, day: new Date(day.start).toISOString() }, 'cross-device cross-check done');
  return round;
}
