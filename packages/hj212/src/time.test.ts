import { formatDataTime, formatQn, isShanghaiTime, parseShanghaiTime } from './time.js';

describe('Shanghai times', () => {
  it('parses DataTime as +08:00 and gives the UTC instant', () => {
    expect(parseShanghaiTime('20160801080000')).toEqual({
      local: '2016-08-01T08:00:00+08:00',
      utc: '2016-08-01T00:00:00.000Z',
    });
  });

  it('crosses the date line into the previous UTC day', () => {
    expect(parseShanghaiTime('20200101053000')?.utc).toBe('2019-12-31T21:30:00.000Z');
  });

  it('parses a QN with milliseconds', () => {
    expect(parseShanghaiTime('20160801085857223')).toEqual({
      local: '2016-08-01T08:58:57.223+08:00',
      utc: '2016-08-01T00:58:57.223Z',
    });
  });

  it.each(['2016080108000', '20161301080000', '20160231080000', '20160801250000', 'abcdefghijklmn', ''])(
    'rejects %p',
    (text) => {
      expect(parseShanghaiTime(text)).toBeNull();
    },
  );

  it('knows leap years and month lengths', () => {
    expect(parseShanghaiTime('20240229120000')?.utc).toBe('2024-02-29T04:00:00.000Z');
    expect(parseShanghaiTime('20000229120000')).not.toBeNull();
    for (const t of ['20230229120000', '21000229120000', '20240431000000', '20241232000000'])
      expect(parseShanghaiTime(t)).toBeNull();
    expect(isShanghaiTime('20160801085857223')).toBe(true);
    expect(isShanghaiTime('2016080108585722')).toBe(false);
    expect(isShanghaiTime('2016080108585722x')).toBe(false);
    expect(isShanghaiTime('20160801086057223')).toBe(false);
  });

  it('agrees with a Date-based reading on every day of four years', () => {
    for (let t = Date.UTC(2023, 0, 1); t < Date.UTC(2027, 0, 1); t += 86_400_000 + 3_600_000 + 61_000) {
      const d = new Date(t);
      const text = d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
      expect(parseShanghaiTime(text)?.utc).toBe(new Date(t - 8 * 3600_000).toISOString());
    }
  });

  it('formats in Shanghai time', () => {
    const d = new Date('2019-12-31T21:30:05.007Z');
    expect(formatDataTime(d)).toBe('20200101053005');
    expect(formatQn(d)).toBe('20200101053005007');
  });
});
