import { readFileSync } from 'node:fs';
import {
  createSm4EcbCipher,
  decodePacket,
  encodePacket,
  encodeSegment,
  SplitPacketReassembler,
  type Packet,
} from '@offsite/hj212';
import { parseRegistryText, planRun } from './plan.js';
import { fitToDay, generateRegistry } from './registry-gen.js';
import type { Scenario } from './scenarios.js';
import { createSimulation, type Output } from './simulation.js';
import { FLAG_SPLIT, MAX_SEGMENT_BYTES, splitPacket } from './split.js';

const template = parseRegistryText(
  readFileSync(new URL('../../../registry/example.yaml', import.meta.url), 'utf8'),
  'x.yaml',
);
const HOUR = 3_600_000;
const day = Date.parse('2026-05-01T00:00:00+08:00');
type Hj = Output & { kind: 'hj212' };

/** Twelve enterprises over `hours`; `edit` may change the registry first. */
function simulate(hours: number, edit: (reg: ReturnType<typeof generateRegistry>) => void = () => {}) {
  const reg = fitToDay(generateRegistry(template, { count: 12 }), day);
  edit(reg);
  const plan = planRun(reg, 0, day, ['treatment-off', 'exceedance', 'flatline', 'offline', 'maintenance']);
  const sim = createSimulation({ fleet: plan.fleet, scenarios: plan.scenarios, seed: 7, start: day });
  const hj = sim.advanceTo(day + hours * HOUR).filter((o): o is Hj => o.kind === 'hj212');
  return { plan, hj };
}

const decoded = (frame: Buffer, cipher?: ReturnType<typeof createSm4EcbCipher>): Packet => {
  const d = decodePacket(frame, { cipherFor: () => cipher });
  if (!d.ok) throw new Error(`${d.error.code}: ${d.error.message}`);
  return d.packet;
};

describe('PNUM/PNO splitting of oversized packets', () => {
  const { plan, hj } = simulate(25);
  const sm4 = new Map(plan.fleet.loggers.map((l) => [l.mn, l.sm4Key]));

  it('splits every packet over 1024 bytes into parts that fit, which the reassembler joins back', () => {
    let split = 0;
    for (const o of hj) {
      const key = sm4.get(o.mn) ?? null;
      const cipher = key ? createSm4EcbCipher(key) : undefined;
      const options = cipher ? { cipher } : {};
      const whole = decoded(encodePacket(o.packet, options), cipher);
      const parts = splitPacket(o.packet, MAX_SEGMENT_BYTES, options);
      const oversize = Buffer.byteLength(encodeSegment(o.packet, options)) > MAX_SEGMENT_BYTES;
      if (!oversize || o.packet.flag === null) {
        expect(parts).toEqual([o.packet]);
        continue;
      }
      split++;
      expect(parts.length).toBeGreaterThan(1);
      const r = new SplitPacketReassembler();
      let result: ReturnType<SplitPacketReassembler['add']> | null = null;
      for (const [i, part] of parts.entries()) {
        const frame = encodePacket(part, options);
        expect(frame.length - 12).toBeLessThanOrEqual(MAX_SEGMENT_BYTES);
        const p = decoded(frame, cipher);
        expect([p.split, p.pnum, p.pno, p.qn, p.mn, p.cn]).toEqual([
          true,
          parts.length,
          i + 1,
          whole.qn,
          whole.mn,
          whole.cn,
        ]);
        expect(p.irregularities).not.toContain('segment-oversize');
        expect((p.flag ?? 0) & FLAG_SPLIT).toBe(FLAG_SPLIT);
        result = r.add(p, 0);
        expect(result.status).toBe(i + 1 < parts.length ? 'pending' : 'complete');
      }
      if (result?.status !== 'complete') throw new Error('not reassembled');
      expect(result.packet.dataTimeUtc).toBe(whole.dataTimeUtc);
      expect(result.packet.values).toEqual(whole.values);
      expect(result.packet.flags).toEqual(whole.flags);
    }
    // Hourly and daily flue-gas packets (a dozen factors with Min/Avg/Max/Cou/ZsAvg) are over the limit.
    expect(split).toBeGreaterThan(10);
  });

  it('sends HJ/T 212-2005 packets (no Flag to announce a split) whole', () => {
    const old = hj.find((o) => o.packet.flag === null && o.cn === '2061');
    if (!old) throw new Error('no 2005 logger in the fleet');
    expect(splitPacket(old.packet, 200)).toEqual([old.packet]);
  });
});

describe('minute-only outlets (realtimeIntervalS 0)', () => {
  let mn = '';
  const { hj } = simulate(2, (reg) => {
    const device = reg.enterprises[0]?.outlets[0]?.devices[0];
    if (!device) throw new Error('no device');
    (device as { realtimeIntervalS: number }).realtimeIntervalS = 0;
    mn = device.mn;
  });

  it('send no real-time data, but minute, hourly data computed from the samples they keep', () => {
    const mine = hj.filter((o) => o.mn === mn);
    expect(mine.filter((o) => o.cn === '2011')).toEqual([]);
    const minutes = mine.filter((o) => o.cn === '2051');
    expect(minutes.length).toBeGreaterThan(0);
    expect(mine.filter((o) => o.cn === '2061')).toHaveLength(2);
    for (const o of minutes) {
      const p = decoded(encodePacket(o.packet));
      expect(p.values.filter((v) => v.stat === 'Avg').length).toBeGreaterThan(3);
      // Min ≤ Avg ≤ Max, and not all equal: several samples went into each minute window.
      const a = p.values.find((v) => v.stat === 'Avg' && v.code === 'a01012');
      const lo = p.values.find((v) => v.stat === 'Min' && v.code === 'a01012');
      const hi = p.values.find((v) => v.stat === 'Max' && v.code === 'a01012');
      if (a && lo && hi) {
        expect(lo.value).toBeLessThanOrEqual(a.value);
        expect(a.value).toBeLessThanOrEqual(hi.value);
        expect(hi.value).toBeGreaterThan(lo.value);
      }
    }
    // Other loggers still send real-time data.
    expect(hj.some((o) => o.mn !== mn && o.cn === '2011')).toBe(true);
  });
});

describe('treatment facility status (SBn-RS)', () => {
  it('is reported in CN 2021 packets by the logger of the linked outlet: 0 while treatment is off, else 1', () => {
    const { plan } = simulate(0);
    const linked = plan.fleet.loggers.filter((l) => l.facilities.length > 0);
    expect(linked.length).toBeGreaterThan(0);
    // The standard treatment-off scenario sits on a resuming enterprise; switch a linked one off too.
    const target = linked[0]?.facilities[0]?.meterId ?? '';
    const scenarios: Scenario[] = [
      ...plan.scenarios,
      {
        kind: 'treatment-off',
        enterpriseId: linked[0]?.enterpriseId ?? '',
        target,
        factor: null,
        from: day + 9 * HOUR,
        to: day + 12 * HOUR,
        ratio: 1,
        expect: ['treatment-idle'],
        description: { zh: '治污设施未运行', en: 'treatment facility off' },
      },
    ];
    const sim = createSimulation({ fleet: plan.fleet, scenarios, seed: 7, start: day });
    const hj = sim.advanceTo(day + 24 * HOUR).filter((o): o is Hj => o.kind === 'hj212');
    const seen = new Set<number | undefined>();
    for (const l of linked) {
      const status = hj.filter((o) => o.mn === l.mn && o.cn === '2021');
      expect(status).toHaveLength(hj.filter((o) => o.mn === l.mn && o.cn === '2011').length);
      for (const o of status) {
        const p = decoded(
          encodePacket(o.packet, l.sm4Key ? { cipher: createSm4EcbCipher(l.sm4Key) } : {}),
          l.sm4Key ? createSm4EcbCipher(l.sm4Key) : undefined,
        );
        const off = (meterId: string) =>
          scenarios.some(
            (s) =>
              s.kind === 'treatment-off' && s.target === meterId && o.dataTime >= s.from && o.dataTime < s.to,
          );
        expect(p.dataTimeUtc).toBe(new Date(o.dataTime).toISOString());
        for (const f of l.facilities) {
          const rs =
            p.values.find((v) => v.code === f.code && v.stat === 'RS') ??
            p.values.find((v) => v.code === `${f.code}-RS`);
          expect({ code: f.code, rs: rs?.value }).toEqual({ code: f.code, rs: off(f.meterId) ? 0 : 1 });
          seen.add(rs?.value);
        }
      }
    }
    // The treatment-off scenario prefers an enterprise whose treatment meter is linked to a facility.
    expect([...seen].sort()).toEqual([0, 1]);
    // Loggers without linked facilities send none.
    const unlinked = new Set(plan.fleet.loggers.filter((l) => l.facilities.length === 0).map((l) => l.mn));
    expect(hj.filter((o) => unlinked.has(o.mn) && o.cn === '2021')).toEqual([]);
  });

  it("the demo registry: the treatment-off case's meter powers a facility whose logger reports it stopped (RS 0)", () => {
    const demo = parseRegistryText(
      readFileSync(new URL('../../../registry/demo.yaml', import.meta.url), 'utf8'),
      'demo.yaml',
    );
    const demoDay = Date.parse('2026-11-28T00:00:00+08:00');
    const plan = planRun(demo, 0, demoDay, ['treatment-off']);
    const [off] = plan.scenarios;
    const logger = plan.fleet.loggers.find((l) => l.facilities.some((f) => f.meterId === off!.target));
    expect(logger).toBeDefined();
    // The template links three treatment meters (two at the incinerator, one at the resuming food plant); the
    // demo clones each enterprise three times.
    const treatment = demo.enterprises.flatMap((e) => e.meters.filter((m) => m.role === 'treatment'));
    expect(treatment.filter((m) => m.facilities?.length).length).toBe(9);
    const sim = createSimulation({
      fleet: plan.fleet,
      scenarios: plan.scenarios,
      seed: 7,
      start: demoDay + 8 * HOUR,
    });
    const rs = sim
      .advanceTo(demoDay + 10 * HOUR)
      .filter((o): o is Hj => o.kind === 'hj212' && o.mn === logger!.mn && o.cn === '2021')
      .map((o) => {
        const code = logger!.facilities.find((f) => f.meterId === off!.target)!.code;
        const v = decoded(encodePacket(o.packet)).values.find(
          (x) => x.code === `${code}-RS` || (x.code === code && x.stat === 'RS'),
        );
        return [o.dataTime >= off!.from, v?.value];
      });
    expect(new Set(rs.filter(([during]) => !during).map(([, v]) => v))).toEqual(new Set([1]));
    expect(new Set(rs.filter(([during]) => during).map(([, v]) => v))).toEqual(new Set([0]));
  });
});
