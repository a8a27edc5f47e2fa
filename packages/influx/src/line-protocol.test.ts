import { InvalidPointError, toLine } from './line-protocol.js';

describe('toLine', () => {
  it('sorts tags and fields and writes floats with a decimal point', () => {
    const line = toLine({
      measurement: 'emission',
      tags: { site: 'out-1', enterprise: 'ent-1', factor: 'a21026' },
      fields: { Rtd: 12, flag: 'N', Avg: 1.25 },
      timeSeconds: 1_700_000_000,
    });
    expect(line).toBe(
      'emission,enterprise=ent-1,factor=a21026,site=out-1 Avg=1.25,Rtd=12.0,flag="N" 1700000000',
    );
  });

  it('escapes separators in keys, tag values and strings', () => {
    const line = toLine({
      measurement: 'my m,x',
      tags: { 'a b': 'c=d,e' },
      fields: { note: 'say "hi"\\' },
      timeSeconds: 1,
    });
    expect(line).toBe('my\\ m\\,x,a\\ b=c\\=d\\,e note="say \\"hi\\"\\\\" 1');
  });

  it('drops empty tag values, which line protocol cannot carry', () => {
    expect(toLine({ measurement: 'm', tags: { a: '', b: 'x' }, fields: { v: 1.5 }, timeSeconds: 2 })).toBe(
      'm,b=x v=1.5 2',
    );
  });

  it.each([
    [{ measurement: 'm', tags: {}, fields: {}, timeSeconds: 1 }, /no fields/],
    [{ measurement: 'm', tags: {}, fields: { v: Number.NaN }, timeSeconds: 1 }, /finite/],
    [{ measurement: 'm', tags: {}, fields: { v: 1 }, timeSeconds: 1.5 }, /whole seconds/],
    [{ measurement: '', tags: {}, fields: { v: 1 }, timeSeconds: 1 }, /empty measurement/],
  ])('rejects invalid points with a coded error (%#)', (point, message) => {
    expect(() => toLine(point)).toThrow(InvalidPointError);
    expect(() => toLine(point)).toThrow(message);
  });
});
