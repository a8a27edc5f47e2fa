import { shanghaiText, toCsv } from './data-export.js';

describe('CSV export', () => {
  it('starts with a byte-order mark, quotes what needs it and writes formula-like text as text', () => {
    const csv = toCsv({
      headers: ['时间（北京时间）', '企业'],
      rows: [
        ['2026-02-01 00:00:00', '=HYPERLINK("x")'],
        ['a,b', null],
        [-1.5, '@x'],
      ],
      about: [],
    }).toString('utf8');
    expect(csv).toBe(
      '\uFEFF时间（北京时间）,企业\r\n2026-02-01 00:00:00,"\'=HYPERLINK(""x"")"\r\n"a,b",\r\n-1.5,\'@x\r\n',
    );
  });

  it('writes instants on the Asia/Shanghai clock', () => {
    expect(shanghaiText('2026-01-31T16:00:00.000Z')).toBe('2026-02-01 00:00:00');
  });
});
