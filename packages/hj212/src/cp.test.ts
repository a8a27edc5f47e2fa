import { formatCp, formatCpValue, parseCp } from './cp.js';

describe('parseCp', () => {
  it('splits items, fields, keys and values', () => {
    const r = parseCp('DataTime=20160801080000;w01001-Min=7.1,w01001-Flag=N');
    expect(r).toEqual({
      ok: true,
      value: {
        stray: false,
        items: [
          [{ key: 'DataTime', value: '20160801080000' }],
          [
            { key: 'w01001-Min', value: '7.1' },
            { key: 'w01001-Flag', value: 'N' },
          ],
        ],
      },
    });
  });

  it('keeps separators inside //…// text', () => {
    const r = parseCp('PolId=w01018;i11001-Info=//a;b,c=d//,x-Flag=N');
    expect(r.ok && r.value.items[1]).toEqual([
      { key: 'i11001-Info', value: 'a;b,c=d' },
      { key: 'x-Flag', value: 'N' },
    ]);
  });

  it('parses the empty CP', () => {
    expect(parseCp('')).toEqual({ ok: true, value: { items: [], stray: false } });
  });

  it.each([';a=1', 'a=1;', 'a=1;;b=2', 'a=1,,b=2', ' a=1'])('records stray separators in %p', (cp) => {
    const r = parseCp(cp);
    expect(r.ok && r.value.stray).toBe(true);
  });

  it.each(['a=1;b', 'a=//unterminated', '=1', 'a=//x//y'])('rejects %p', (cp) => {
    const r = parseCp(cp);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.code).toBe('cp-malformed');
  });

  it('formats and quotes text with separators', () => {
    expect(formatCpValue('清洗管路')).toBe('清洗管路');
    expect(formatCpValue('a;b')).toBe('//a;b//');
    expect(() => formatCpValue('//a;b')).toThrow('//');
    expect(
      formatCp([[{ key: 'DataTime', value: '20160801080000' }], [{ key: 'i11001-Info', value: 'x,y' }]]),
    ).toBe('DataTime=20160801080000;i11001-Info=//x,y//');
  });
});
