import { atShanghaiTime, shanghaiMidnight } from './calendar.js';
import { annualLoadDeviationId, judgeAnnualLoad, type AnnualLoadInput } from './annual-load.js';
import { defaultConfig } from './config.js';
import type { LoadTotal } from './loads.js';

// 876 kg a year of 8,760 hours (2026): the pro-rata share is 0.1 kg per elapsed hour.
const PERMIT = 876;
const FEB_1 = shanghaiMidnight('2026-02-01').getTime(); // 744 hours after 1 January 00:00 → pro rata 74.4 kg
const YEAR_2026 = shanghaiMidnight('2026-01-01').getTime();

function ytd(kg: number): LoadTotal {
  return {
    start: YEAR_2026,
    end: FEB_1,
    computedKg: kg,
    reportedKg: null,
    hours: 744,
    validHours: 700,
    invalidHours: 4,
    missingHours: 40,
    check: null,
  };
}

const ID1 = annualLoadDeviationId('E1', 'O1', 'a21002', FEB_1);
/** The log's head of the year's first deviation. */
const head = (revision: number, state: 'opened' | 'updated' | 'resolved', severity: 'minor' | 'major') => ({
  generation: 1,
  revision,
  state,
  severity,
});

function input(kg: number, previous: AnnualLoadInput['previous'], over: Partial<AnnualLoadInput> = {}) {
  return judgeAnnualLoad({
    enterpriseId: 'E1',
    siteId: 'O1',
    factor: 'a21002',
    concentrationUnit: 'mg/m3',
    permitKg: PERMIT,
    asOf: FEB_1,
    ytd: ytd(kg),
    previous,
    rules: defaultConfig.rules.annualLoad,
    ...over,
  });
}

describe('annual load against the permit (许可排放量)', () => {
  it('opens nothing within the pro-rata share: 74 kg of 74.4 kg on 1 February', () => {
    expect(input(74, null)).toBeNull();
  });

  it('warns when the year-to-date runs ahead of the pro-rata share: 80 kg > 74.4 kg', () => {
    const d = input(80, null)!;
    expect(d).toMatchObject({
      rule: 'annual-load',
      state: 'opened',
      revision: 1,
      severity: 'minor',
      factor: 'a21002',
      subject: 'a21002',
      windowStart: YEAR_2026,
    });
    expect(d.evidence).toMatchObject({
      state: 'ahead',
      year: 2026,
      ytdKg: 80,
      permitKg: 876,
      proRataKg: 74.4,
      asOfText: '2026-02-01 00:00',
      validHours: 700,
      missingHours: 40,
    });
    expect(d.id).toBe(annualLoadDeviationId('E1', 'O1', 'a21002', FEB_1));
  });

  it('the same id all year for an outlet and factor, another next year and for another factor', () => {
    const dec = atShanghaiTime('2026-12-31', 23).getTime();
    const newYear = shanghaiMidnight('2027-01-01').getTime();
    const id = annualLoadDeviationId('E1', 'O1', 'a21002', FEB_1);
    expect(annualLoadDeviationId('E1', 'O1', 'a21002', dec)).toBe(id);
    // 1 January 00:00 judges the whole past year.
    expect(annualLoadDeviationId('E1', 'O1', 'a21002', newYear)).toBe(id);
    expect(annualLoadDeviationId('E1', 'O1', 'a21002', newYear + 3_600_000)).not.toBe(id);
    expect(annualLoadDeviationId('E1', 'O1', 'a21026', FEB_1)).not.toBe(id);
  });

  it('judges the closed year on 1 January 00:00 against the whole permit, not the new year', () => {
    const newYear = shanghaiMidnight('2027-01-01').getTime();
    const full = { ...ytd(870), end: newYear };
    expect(input(870, null, { asOf: newYear, ytd: full })).toBeNull();
    const over = input(900, null, { asOf: newYear, ytd: { ...full, computedKg: 900 } })!;
    expect(over.evidence).toMatchObject({ state: 'exceeded', year: 2026 });
    expect(over.windowStart).toBe(YEAR_2026);
  });

  it('a rerun of the same judgement emits nothing', () => {
    expect(input(80, head(1, 'opened', 'minor'))).toBeNull();
  });

  it('a warning that becomes an exceedance is the next revision of the same deviation', () => {
    const d = input(900, head(1, 'opened', 'minor'))!;
    expect(d).toMatchObject({ state: 'updated', revision: 2, severity: 'major' });
    expect(d.id).toBe(annualLoadDeviationId('E1', 'O1', 'a21002', FEB_1));
    expect(d.evidence).toMatchObject({ state: 'exceeded', ytdKg: 900 });
  });

  it('opens as an exceedance at once when the load is above the permit', () => {
    expect(input(877, null)).toMatchObject({ state: 'opened', revision: 1, severity: 'major' });
  });

  it('resolves when the load is back within the share; running ahead again opens the next generation, following it', () => {
    const r = input(70, head(1, 'opened', 'minor'))!;
    expect(r).toMatchObject({ id: ID1, state: 'resolved', revision: 2, severity: 'minor', windowEnd: FEB_1 });
    expect(input(70, head(2, 'resolved', 'minor'))).toBeNull();
    // Resolved is final: a new deviation (domain-rules §3), never revision 3 of the resolved one.
    const again = input(80, head(2, 'resolved', 'minor'))!;
    const id2 = annualLoadDeviationId('E1', 'O1', 'a21002', FEB_1, 2);
    expect(id2).not.toBe(ID1);
    expect(again).toMatchObject({ id: id2, state: 'opened', revision: 1, windowStart: YEAR_2026 });
    expect(again.evidence.follows).toBe(ID1);
    // Its later revisions keep its id and what it follows; once it resolves too, the third generation follows it.
    const prev2 = { generation: 2, revision: 1, state: 'opened' as const, severity: 'minor' as const };
    const worse = input(900, prev2)!;
    expect(worse).toMatchObject({ id: id2, state: 'updated', revision: 2, severity: 'major' });
    expect(worse.evidence.follows).toBe(ID1);
    const third = input(80, { ...prev2, revision: 3, state: 'resolved' })!;
    expect(third).toMatchObject({ id: annualLoadDeviationId('E1', 'O1', 'a21002', FEB_1, 3), revision: 1 });
    expect(third.evidence.follows).toBe(id2);
  });

  it('resolves an open deviation when the permit is removed', () => {
    const r = input(900, head(2, 'updated', 'major'), { permitKg: null })!;
    expect(r).toMatchObject({ state: 'resolved', revision: 3 });
    expect(r.evidence).toMatchObject({ endedBy: 'permit-removed' });
  });

  it('does not warn in the first days of the year, where the pro-rata share is tiny', () => {
    const jan5 = shanghaiMidnight('2026-01-05').getTime(); // 96 h → 9.6 kg
    const early = { ...ytd(20), end: jan5 };
    expect(input(20, null, { asOf: jan5, ytd: early })).toBeNull();
    expect(input(900, null, { asOf: jan5, ytd: { ...early, computedKg: 900 } })).toMatchObject({
      severity: 'major',
    });
  });

  it('honours the margin: 80 kg is within 74.4 kg + 10 %', () => {
    const rules = { ...defaultConfig.rules.annualLoad, aheadMargin: 0.1 };
    expect(input(80, null, { rules })).toBeNull();
    expect(input(82, null, { rules })).toMatchObject({ severity: 'minor' });
  });
});
