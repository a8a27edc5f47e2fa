import {
  addDays,
  addYears,
  atShanghaiTime,
  endOfShanghaiDay,
  formatShanghai,
  monthRange,
  shanghaiDate,
  shanghaiHour,
  shanghaiMidnight,
  shanghaiMinuteOfDay,
  startOfShanghaiDay,
  toShanghaiIso,
} from './calendar.js';

test('an instant after 16:00 UTC is already the next Shanghai day, month and year', () => {
  expect(shanghaiDate(new Date('2026-03-01T15:59:59.999Z'))).toBe('2026-03-01');
  expect(shanghaiDate(new Date('2026-03-01T16:00:00Z'))).toBe('2026-03-02');
  expect(shanghaiDate(Date.parse('2026-01-31T16:00:00Z'))).toBe('2026-02-01');
  expect(shanghaiDate(new Date('2026-12-31T16:00:00Z'))).toBe('2027-01-01');
  expect(shanghaiDate(new Date('2028-02-28T16:00:00Z'))).toBe('2028-02-29');
});

test('formats for people and as ISO 8601 with the +08:00 offset', () => {
  expect(formatShanghai(new Date('2026-03-01T16:30:00Z'))).toBe('2026-03-02 00:30');
  expect(formatShanghai(Date.parse('2026-12-31T15:59:00Z'))).toBe('2026-12-31 23:59');
  expect(toShanghaiIso(Date.parse('2025-03-10T02:00:00Z'))).toBe('2025-03-10T10:00:00+08:00');
  expect(toShanghaiIso(new Date('2026-12-31T16:00:00.250Z'))).toBe('2027-01-01T00:00:00+08:00');
  expect(Date.parse(toShanghaiIso(Date.parse('2026-06-30T18:45:12Z')))).toBe(
    Date.parse('2026-06-30T18:45:12Z'),
  );
});

test('hour and minute of the Shanghai day wrap at local midnight, also before 1970', () => {
  expect(shanghaiHour(Date.parse('2026-03-01T02:30:00Z'))).toBe(10.5);
  expect(shanghaiHour(Date.parse('2026-03-01T16:00:00Z'))).toBe(0);
  expect(shanghaiHour(Date.parse('2026-03-01T15:00:00Z'))).toBe(23);
  expect(shanghaiHour(Date.parse('1969-12-31T15:00:00Z'))).toBe(23);
  expect(shanghaiMinuteOfDay(new Date('2026-03-01T15:59:00Z'))).toBe(1439);
  expect(shanghaiMinuteOfDay(new Date('2026-03-01T16:00:00Z'))).toBe(0);
  expect(shanghaiMinuteOfDay(Date.parse('1969-12-31T16:01:00Z'))).toBe(1);
});

test('day starts and ends at Shanghai midnight', () => {
  expect(shanghaiMidnight('2026-03-01').toISOString()).toBe('2026-02-28T16:00:00.000Z');
  expect(shanghaiMidnight('2027-01-01').toISOString()).toBe('2026-12-31T16:00:00.000Z');
  expect(endOfShanghaiDay('2026-02-28').toISOString()).toBe('2026-02-28T15:59:59.999Z');
  const t = Date.parse('2026-03-01T15:59:59.999Z');
  expect(startOfShanghaiDay(t)).toBe(Date.parse('2026-02-28T16:00:00Z'));
  expect(startOfShanghaiDay(t + 1)).toBe(Date.parse('2026-03-01T16:00:00Z'));
  expect(startOfShanghaiDay(Date.parse('1969-12-31T20:00:00Z'))).toBe(Date.parse('1969-12-31T16:00:00Z'));
  expect(atShanghaiTime('2026-04-25', 23, 59).toISOString()).toBe('2026-04-25T15:59:00.000Z');
  expect(atShanghaiTime('2026-04-20', 9).toISOString()).toBe('2026-04-20T01:00:00.000Z');
  expect(atShanghaiTime('2026-04-20', 24).getTime()).toBe(shanghaiMidnight('2026-04-21').getTime());
  expect(() => shanghaiMidnight('2026-3-1')).toThrow(RangeError);
});

test('adding days and years crosses month, year and leap-day boundaries', () => {
  expect(addDays('2026-02-28', 1)).toBe('2026-03-01');
  expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
  expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
  expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
  expect(addDays('2026-01-01', -365)).toBe('2025-01-01');
  expect(addYears('2028-02-29', -1)).toBe('2027-02-28');
  expect(addYears('2028-02-29', 4)).toBe('2032-02-29');
  expect(addYears('2026-06-15', -3)).toBe('2023-06-15');
});

test('a month runs from its first Shanghai midnight to the next month’s', () => {
  const dec = monthRange('2026-12');
  expect(dec).toEqual({
    month: '2026-12',
    firstDay: '2026-12-01',
    nextFirstDay: '2027-01-01',
    from: new Date('2026-11-30T16:00:00Z'),
    to: new Date('2026-12-31T16:00:00Z'),
  });
  expect(monthRange('2028-02').nextFirstDay).toBe('2028-03-01');
  expect(monthRange('2026-02').to.getTime() - monthRange('2026-02').from.getTime()).toBe(28 * 86_400_000);
  expect(() => monthRange('2026-13')).toThrow(RangeError);
  expect(() => monthRange('2026-1')).toThrow(/not a YYYY-MM month/);
});
