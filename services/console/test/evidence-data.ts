// The evidence-chart tests' data, besides the fixture's SO2 exceedance (dev-landong-exceed-1):
// - a treatment-idle case of ent-0001 (dist-landong): the production meter mtr-0001-p1 runs at 150 kW
//   (37.5 kWh per 15 minutes, rated 180) from 02:00 to 05:00 UTC on 2 March 2026 while the treatment meter
//   mtr-0001-t1 (rated 95) draws 0.4 kW; both counters are about 250,000 kWh, and the treatment meter's
//   counter is reset to 0 at 04:20 (a meter swap). Read every minute, in the influx-writer's layout. The
//   treatment meter powers facility SB1 of the gas outlet out-0001-g1, whose logger reports it (SB1-RS, every
//   minute) running until 02:30, stopped until 03:30, in fault until 03:45, stopped again until 05:00.
// - a zero-while-running case of ent-0001's gas outlet: SO2 real-time values 0 from 02:30 to 04:00 UTC on 2 March
//   (20 mg/m3 before and after) while the production meter mtr-0001-p1 above runs.
// - a flatline case of ent-0002's gas outlet: NOx real-time values 41.2 mg/m3 unchanged from 01:00 to
//   02:10 UTC on 3 March, varying before and after.
import { createInfluxClient, createInfluxWriter, toLine } from '@offsite/influx';
import { silentLogger } from '@offsite/testing';
import { influxConnection, insertAlertCase, type World } from './fixture.js';

export const IDLE = {
  id: 'dev-ent-0001-treatment-idle-1',
  windowStart: '2026-03-02T02:30:00.000Z',
  windowEnd: '2026-03-02T04:00:00.000Z',
};
/** SB1's reported states: [from minute after 02:00, RS]. */
export const IDLE_STATES: readonly [number, number][] = [
  [0, 1],
  [30, 0],
  [90, 4],
  [105, 0],
];
export const FLAT = {
  id: 'dev-ent-0002-flatline-1',
  windowStart: '2026-03-03T01:00:00.000Z',
  windowEnd: '2026-03-03T02:10:00.000Z',
  value: 41.2,
};
export const ZERO = {
  id: 'dev-ent-0001-zero-while-running-1',
  windowStart: '2026-03-02T02:30:00.000Z',
  windowEnd: '2026-03-02T04:00:00.000Z',
};
const MIN_S = 60;

const deviation = {
  schema: 'deviation.v1' as const,
  revision: 1,
  state: 'opened' as const,
  suspectedFalsification: false,
  inResumptionWindow: false,
  emittedAt: '2026-03-03T04:00:05.000Z',
};

export async function writeEvidenceData(w: World): Promise<void> {
  await insertAlertCase(w.pool, {
    ...deviation,
    id: IDLE.id,
    enterpriseId: 'ent-0001',
    siteId: 'mtr-0001-t1',
    rule: 'treatment-idle',
    severity: 'high',
    windowStart: IDLE.windowStart,
    windowEnd: IDLE.windowEnd,
    openedAt: IDLE.windowEnd,
    evidence: {
      summary: 'treatment idle while producing: mtr-0001-t1 serves mtr-0001-p1',
      values: [],
      params: {
        domainRule: 'treatment-idle',
        productionMeterId: 'mtr-0001-p1',
        treatmentMeterId: 'mtr-0001-t1',
        productionRatedKwh: 180,
        treatmentRatedKwh: 95,
        productionShare: 0.2,
        treatmentShare: 0.1,
        windowMinutes: 15,
      },
    },
  });
  await insertAlertCase(w.pool, {
    ...deviation,
    id: ZERO.id,
    enterpriseId: 'ent-0001',
    siteId: 'out-0001-g1',
    rule: 'zero-while-running',
    factor: 'a21026',
    severity: 'high',
    suspectedFalsification: true,
    windowStart: ZERO.windowStart,
    windowEnd: ZERO.windowEnd,
    openedAt: ZERO.windowEnd,
    evidence: {
      summary: 'zero while running: out-0001-g1 a21026',
      values: [],
      params: {
        domainRule: 'zero-while-running',
        minDurationMs: 1_800_000,
        productionMeterIds: ['mtr-0001-p1'],
      },
    },
  });
  await insertAlertCase(w.pool, {
    ...deviation,
    id: FLAT.id,
    enterpriseId: 'ent-0002',
    siteId: 'out-0002-g1',
    rule: 'flatline',
    factor: 'a21002',
    severity: 'high',
    suspectedFalsification: true,
    windowStart: FLAT.windowStart,
    windowEnd: FLAT.windowEnd,
    openedAt: FLAT.windowEnd,
    evidence: {
      summary: 'the same value for 70 minutes: out-0002-g1 a21002',
      values: [],
      params: { domainRule: 'flatline', interval: 'realtime', value: FLAT.value, minDurationMs: 3_600_000 },
    },
  });

  await w.pool.query(
    `insert into meter_facilities (meter_id, outlet_id, code) values ('mtr-0001-t1', 'out-0001-g1', 'SB1')`,
  );
  const conn = influxConnection();
  const writer = createInfluxWriter(
    { ...conn, logger: silentLogger },
    createInfluxClient(conn, silentLogger),
  );
  const energy = `energy_${w.run}`;
  const t0 = Date.parse('2026-03-02T02:00:00.000Z') / 1000;
  const lines: string[] = [];
  const meter = (site: string, t: number, counter: number, kw: number, running: number) => {
    const tags = { enterprise: 'ent-0001', site, device: site, interval: 'realtime' };
    lines.push(
      toLine({
        measurement: energy,
        tags: { ...tags, factor: 'energy_kwh' },
        fields: { Cou: counter, flag: 'N', unit: 'kWh' },
        timeSeconds: t,
      }),
      toLine({
        measurement: energy,
        tags: { ...tags, factor: 'power_kw' },
        fields: { Rtd: kw, flag: 'N', unit: 'kW' },
        timeSeconds: t,
      }),
      toLine({
        measurement: energy,
        tags: { ...tags, factor: 'running' },
        fields: { Value: running, flag: 'N' },
        timeSeconds: t,
      }),
    );
  };
  for (let i = 0; i <= 180; i++) {
    const t = t0 + i * MIN_S;
    meter('mtr-0001-p1', t, 251_230 + i * 2.5, 150, 1);
    // The treatment meter is swapped at 04:20 (minute 140): its counter restarts at 0.
    const treat = i < 140 ? 248_015 + i * (0.4 / 60) : (i - 140) * (0.4 / 60);
    meter('mtr-0001-t1', t, treat, 0.4, 0);
  }
  for (let i = 0; i <= 180; i++)
    lines.push(
      toLine({
        measurement: `status_${w.run}`,
        tags: {
          enterprise: 'ent-0001',
          site: 'out-0001-g1',
          device: 'MN-0001-G1',
          factor: 'SB1',
          interval: 'realtime',
        },
        fields: { RS: IDLE_STATES.filter(([m]) => m <= i).pop()![1], flag: 'N' },
        timeSeconds: t0 + i * MIN_S,
      }),
    );
  const emission = `emission_${w.run}`;
  /** Three hours of one factor's real-time values, every minute from `from` (s), `value(t)` at each. */
  const realtime = (
    ent: string,
    site: string,
    factor: string,
    from: number,
    value: (t: number, i: number) => number,
  ) => {
    const tags = { enterprise: ent, site, device: `MN-${site.slice(4, 8)}-G1`, factor, interval: 'realtime' };
    for (let i = 0; i <= 180; i++) {
      const t = from + i * MIN_S;
      lines.push(
        toLine({
          measurement: emission,
          tags,
          fields: { Rtd: value(t, i), flag: 'N', unit: 'mg/m3' },
          timeSeconds: t,
        }),
      );
    }
  };
  const within = (t: number, c: { windowStart: string; windowEnd: string }) =>
    t >= Date.parse(c.windowStart) / 1000 && t <= Date.parse(c.windowEnd) / 1000;
  realtime('ent-0002', 'out-0002-g1', 'a21002', Date.parse('2026-03-03T00:00:00.000Z') / 1000, (t, i) =>
    within(t, FLAT) ? FLAT.value : 35 + ((i * 7) % 13),
  );
  realtime('ent-0001', 'out-0001-g1', 'a21026', t0, (t) => (within(t, ZERO) ? 0 : 20));
  await writer.write(lines);
}
