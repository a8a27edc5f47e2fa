import { formatDataTime, formatQn, parseShanghaiTime } from './time.js';

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

  it('formats in Shanghai time', () => {
    const d = new Date('2019-12-31T21:30:05.007Z');
    expect(formatDataTime(d)).toBe('20200101053005');
    expect(formatQn(d)).toBe('20200101053005007');
  });
});
