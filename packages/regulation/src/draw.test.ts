import {
  defaultDrawConfig,
  drawInputsDigest,
  drawInspections,
  riskWeight,
  sampleSize,
  type DrawEnterprise,
  type DrawInspector,
} from './draw.js';

function population(n: { key: number; special: number; general: number; listed: number }): DrawEnterprise[] {
  const out: DrawEnterprise[] = [];
  let i = 0;
  const add = (cls: DrawEnterprise['supervisionClass'], count: number, listed: boolean) => {
    for (let k = 0; k < count; k += 1) {
      i += 1;
      out.push({
        id: `ent-${String(i).padStart(4, '0')}`,
        districtId: `d${i % 3}`,
        supervisionClass: cls,
        positiveListed: listed,
        openDeviations: 0,
        violations: 0,
      });
    }
  };
  add('key', n.key, false);
  add('special', n.special, false);
  add('general', n.general, false);
  add('general', n.listed, true);
  return out;
}

const roster: DrawInspector[] = Array.from({ length: 12 }, (_, i) => ({
  id: `insp-${i}`,
  districtId: `d${i % 3}`,
  recusals: [],
}));

describe('drawInspections', () => {
  const enterprises = population({ key: 40, special: 40, general: 200, listed: 20 });

  it('is reproducible from the seed and changes with it', () => {
    const a = drawInspections({
      period: '2026-Q1',
      seed: 'abc',
      enterprises,
      inspectors: roster,
      config: defaultDrawConfig,
    });
    const b = drawInspections({
      period: '2026-Q1',
      seed: 'abc',
      enterprises: [...enterprises].reverse(),
      inspectors: [...roster].reverse(),
      config: defaultDrawConfig,
    });
    const c = drawInspections({
      period: '2026-Q1',
      seed: 'abd',
      enterprises,
      inspectors: roster,
      config: defaultDrawConfig,
    });
    expect(b).toEqual(a);
    expect(c.targets.map((t) => t.enterpriseId)).not.toEqual(a.targets.map((t) => t.enterpriseId));
    expect(c.inputsDigest).not.toEqual(a.inputsDigest);
  });

  it('draws round(rate × population) per stratum; listed enterprises get off-site checks', () => {
    const r = drawInspections({
      period: '2026-Q1',
      seed: 's',
      enterprises,
      inspectors: roster,
      config: defaultDrawConfig,
    });
    expect(r.strata.map((s) => [s.stratum, s.population, s.drawn])).toEqual([
      ['key', 40, 10],
      ['special', 40, 6],
      ['general', 200, 10],
      ['positive-list', 20, 1],
    ]);
    expect(r.targets.filter((t) => t.mode === 'off-site').every((t) => t.stratum === 'positive-list')).toBe(
      true,
    );
    expect(sampleSize(3, 0.05)).toBe(1);
    expect(sampleSize(0, 0.25)).toBe(0);
  });

  it('keeps every enterprise’s inclusion rate within binomial bounds over many seeds', () => {
    const seeds = 400;
    const hits = new Map<string, number>();
    for (let s = 0; s < seeds; s += 1) {
      const r = drawInspections({
        period: '2026-Q2',
        seed: `seed-${s}`,
        enterprises,
        inspectors: roster,
        config: defaultDrawConfig,
      });
      for (const t of r.targets) hits.set(t.enterpriseId, (hits.get(t.enterpriseId) ?? 0) + 1);
    }
    for (const [cls, rate] of [
      ['key', 0.25],
      ['special', 0.15],
      ['general', 0.05],
    ] as const) {
      const members = enterprises.filter((e) => e.supervisionClass === cls && !e.positiveListed);
      const mean = members.reduce((s, e) => s + (hits.get(e.id) ?? 0), 0) / members.length / seeds;
      expect(mean).toBeCloseTo(rate, 5); // fixed sample size: exact on average
      // Each enterprise individually within 5 sigma of the rate.
      const sigma = Math.sqrt((rate * (1 - rate)) / seeds);
      for (const e of members) expect(Math.abs((hits.get(e.id) ?? 0) / seeds - rate)).toBeLessThan(5 * sigma);
    }
  });

  it('weights risky enterprises up', () => {
    const risky = enterprises.map((e) =>
      e.id === 'ent-0100' ? { ...e, openDeviations: 4, violations: 2 } : e,
    );
    let riskyHits = 0;
    for (let s = 0; s < 300; s += 1) {
      const r = drawInspections({
        period: '2026-Q3',
        seed: `w-${s}`,
        enterprises: risky,
        inspectors: roster,
        config: defaultDrawConfig,
      });
      if (r.targets.some((t) => t.enterpriseId === 'ent-0100')) riskyHits += 1;
    }
    // Weight 5 among 199 of weight 1 for 10 places: inclusion ≈ 0.22, far above 0.05.
    expect(riskyHits / 300).toBeGreaterThan(0.15);
  });

  it('weights a high risk score up, and a draw recorded before the score re-runs to the same digest', () => {
    const scored = enterprises.map((e) => (e.id === 'ent-0100' ? { ...e, riskScore: 100 } : e));
    const e = scored.find((x) => x.id === 'ent-0100')!;
    // 1 + 0.04 × 100 = 5 (the cap); 1 + 0.04 × 25 = 2.
    expect(riskWeight(e, defaultDrawConfig.risk)).toBe(5);
    expect(riskWeight({ ...e, riskScore: 25 }, defaultDrawConfig.risk)).toBe(2);
    let hits = 0;
    for (let s = 0; s < 300; s += 1) {
      const r = drawInspections({
        period: '2026-Q3',
        seed: `r-${s}`,
        enterprises: scored,
        inspectors: roster,
        config: defaultDrawConfig,
      });
      if (r.targets.some((t) => t.enterpriseId === 'ent-0100')) hits += 1;
    }
    expect(hits / 300).toBeGreaterThan(0.15);
    // Before the score: no perRiskPoint in the config, no riskScore in the inputs — digest as before.
    const { perRiskPoint: _unused, ...oldRisk } = defaultDrawConfig.risk;
    const old = {
      period: '2026-Q3',
      seed: 's',
      enterprises,
      inspectors: roster,
      config: { ...defaultDrawConfig, risk: oldRisk },
    };
    const withZeroScores = { ...old, enterprises: enterprises.map((e) => ({ ...e, riskScore: 0 })) };
    expect(drawInputsDigest(withZeroScores)).toBe(drawInputsDigest(old));
    expect(drawInputsDigest({ ...old, config: defaultDrawConfig })).not.toBe(drawInputsDigest(old));
  });

  it('assigns two distinct inspectors per target, never recused or (when configured) of the own district', () => {
    const recusing = roster.map((i) =>
      i.id === 'insp-1' ? { ...i, recusals: enterprises.map((e) => e.id) } : i,
    );
    const config = { ...defaultDrawConfig, excludeOwnDistrict: true };
    for (let s = 0; s < 50; s += 1) {
      const r = drawInspections({
        period: '2026-Q1',
        seed: `c-${s}`,
        enterprises,
        inspectors: recusing,
        config,
      });
      for (const t of r.targets) {
        expect(new Set(t.inspectorIds).size).toBe(2);
        expect(t.inspectorIds).not.toContain('insp-1');
        for (const i of t.inspectorIds)
          expect(recusing.find((x) => x.id === i)?.districtId).not.toBe(t.districtId);
      }
    }
  });

  it('refuses a draw it cannot staff', () => {
    const two = [
      { id: 'a', districtId: 'd0', recusals: ['ent-0001'] },
      { id: 'b', districtId: 'd1', recusals: [] },
    ];
    const one = population({ key: 1, special: 0, general: 0, listed: 0 });
    expect(() =>
      drawInspections({
        period: '2026-Q1',
        seed: 'x',
        enterprises: one,
        inspectors: two,
        config: defaultDrawConfig,
      }),
    ).toThrow(expect.objectContaining({ code: 'INSUFFICIENT_INSPECTORS' }));
  });
});
