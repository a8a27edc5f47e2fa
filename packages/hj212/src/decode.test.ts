import { loadFixture } from '../test/fixtures.js';
import { formatCrc, hj212Crc } from './crc.js';
import { decodePacket, peekHeader, type DecodeResult } from './decode.js';
import { encodePacket, encodeSegment, frameSegment } from './encoder.js';
import type { Packet, PacketHeader } from './packet.js';

const field = loadFixture('field-captures.txt');
const standard = loadFixture('standard-examples.txt');

function packetOf(r: DecodeResult): Packet {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.packet;
}

describe('standard examples', () => {
  it.each(standard.map((f) => [f.comment, f.line]))('%s: valid in strict mode', (_c, line) => {
    const p = packetOf(decodePacket(`${line}\r\n`, { policy: 'strict' }));
    expect(p.crc).toMatchObject({ valid: true, variant: 'hj212' });
    expect(p.irregularities).toEqual([]);
    expect(p.version).toBe('2017');
    expect(p.mn).toBe('010000A8900016F000169DC0');
  });

  it('decodes the Appendix A request', () => {
    const p = packetOf(decodePacket(standard[0]!.line));
    expect(p).toMatchObject({
      qn: '20160801085857223',
      st: '32',
      cn: '1062',
      pw: '100000',
      flag: 5,
      ackRequested: true,
      split: false,
      pnum: null,
      pno: null,
      params: { RtdInterval: '30' },
      dataTime: null,
      declaredLength: 101,
      segmentBytes: 101,
    });
    expect(p.crc).toEqual({
      valid: true,
      expected: '1C80',
      actual: '1C80',
      variant: 'hj212',
      lowercase: false,
    });
  });

  it('decodes hourly wastewater values as numbers with flags', () => {
    const p = packetOf(decodePacket(standard[1]!.line));
    expect(p.cn).toBe('2061');
    expect(p.dataTime).toBe('2016-08-01T08:00:00+08:00');
    expect(p.dataTimeUtc).toBe('2016-08-01T00:00:00.000Z');
    expect(p.values).toHaveLength(11);
    expect(p.values.slice(0, 5)).toEqual([
      { code: 'w00000', stat: 'Cou', value: 63 },
      { code: 'w00000', stat: 'Min', value: 16.4 },
      { code: 'w00000', stat: 'Avg', value: 17.5 },
      { code: 'w00000', stat: 'Max', value: 20.1 },
      { code: 'w01001', stat: 'Min', value: 7.1 },
    ]);
    expect(p.flags).toEqual({ w00000: 'N', w01001: 'N', w01018: 'N' });
  });

  it('decodes the replies', () => {
    expect(packetOf(decodePacket(standard[2]!.line))).toMatchObject({
      cn: '9014',
      st: '91',
      flag: 4,
      ackRequested: false,
    });
    expect(packetOf(decodePacket(standard[3]!.line)).params).toEqual({ QnRtn: '1' });
    expect(packetOf(decodePacket(standard[4]!.line)).params).toEqual({ ExeRtn: '1' });
  });

  it('counts UTF-8 bytes: the Chinese log packet is 144 characters and 152 bytes', () => {
    const line = standard[5]!.line;
    const p = packetOf(decodePacket(line, { policy: 'strict' }));
    expect(p.segment.length).toBe(144);
    expect(p.segmentBytes).toBe(152);
    expect(p.declaredLength).toBe(152);
    expect(p.texts).toEqual([{ code: 'i11001', stat: 'Info', text: '清洗管路' }]);
    expect(p.params).toEqual({ PolId: 'w01018' });
  });
});

describe('field captures', () => {
  const expected: Array<{ irregularities: string[]; variant: string; cn: string; values: number }> = [
    {
      irregularities: ['st-unknown', 'mn-nonstandard', 'missing-qn', 'missing-flag'],
      variant: 'hj212',
      cn: '2011',
      values: 5,
    },
    { irregularities: ['mn-nonstandard'], variant: 'hj212', cn: '2061', values: 5 },
    {
      irregularities: [
        'crc-modbus-swapped',
        'mn-nonstandard',
        'missing-qn',
        'missing-flag',
        'factor-code-2005',
      ],
      variant: 'modbus-swapped',
      cn: '2011',
      values: 31,
    },
    {
      irregularities: ['mn-nonstandard', 'missing-qn', 'missing-flag', 'factor-code-2005'],
      variant: 'hj212',
      cn: '2011',
      values: 31,
    },
    {
      irregularities: [
        'crc-modbus-swapped',
        'segment-oversize',
        'mn-nonstandard',
        'missing-qn',
        'missing-flag',
        'factor-code-2005',
      ],
      variant: 'modbus-swapped',
      cn: '2011',
      values: 36,
    },
    {
      irregularities: [
        'crc-modbus-swapped',
        'segment-oversize',
        'mn-nonstandard',
        'missing-flag',
        'factor-code-2005',
      ],
      variant: 'modbus-swapped',
      cn: '2051',
      values: 108,
    },
  ];

  it('has the six captures', () => {
    expect(field).toHaveLength(expected.length);
  });

  it.each(field.map((f, i) => [f.comment, f.line, expected[i]!] as const))(
    'tolerant accepts %s',
    (_c, line, exp) => {
      const p = packetOf(decodePacket(line));
      expect(p.crc.variant).toBe(exp.variant);
      expect(p.cn).toBe(exp.cn);
      expect(p.values).toHaveLength(exp.values);
      expect([...p.irregularities].sort()).toEqual([...exp.irregularities].sort());
    },
  );

  it.each(field.filter((f) => f.comment.includes('modbus')).map((f) => [f.comment, f.line]))(
    'strict rejects the modbus-CRC capture (%s)',
    (_c, line) => {
      const r = decodePacket(line, { policy: 'strict' });
      expect(r.ok).toBe(false);
      expect(!r.ok && r.error.code).toBe('crc-modbus-swapped');
      expect(!r.ok && r.crc?.variant).toBe('modbus-swapped');
    },
  );

  it('strict accepts a capture when its irregularities are explicitly allowed', () => {
    const r = decodePacket(field[1]!.line, { policy: 'strict', allow: ['mn-nonstandard'] });
    expect(packetOf(r).irregularities).toEqual(['mn-nonstandard']);
    expect(decodePacket(field[1]!.line, { policy: 'strict' })).toMatchObject({
      ok: false,
      error: { code: 'mn-nonstandard' },
    });
  });

  it('maps 2005 factor codes and keeps the original', () => {
    const segment =
      'ST=32;CN=2011;PW=123456;MN=88888880000001;CP=&&DataTime=20200923111707;011-Rtd=40.1,011-Flag=N;B01-Rtd=3.5;112-Rtd=1&&';
    const p = packetOf(decodePacket(frameSegment(segment)));
    expect(p.values).toEqual([
      { code: 'w01018', stat: 'Rtd', value: 40.1, originalCode: '011' },
      { code: 'w00000', stat: 'Rtd', value: 3.5, originalCode: 'B01' },
      { code: '112', stat: 'Rtd', value: 1, originalCode: '112' },
    ]);
    expect(p.flags).toEqual({ w01018: 'N' });
    expect(p.irregularities).toContain('factor-code-2005');
  });

  it('keeps the reported precision as a number (0.000 → 0)', () => {
    const p = packetOf(decodePacket(field[5]!.line));
    expect(p.values[0]).toEqual({ code: '112', stat: 'Min', value: 0, originalCode: '112' });
    expect(p.qn).toBe('20200924101500117');
  });
});

describe('irregularities and malformed input', () => {
  const base = {
    qn: '20160801085857223',
    st: '32',
    cn: '2011',
    pw: '123456',
    mn: '010000A8900016F000169DC0',
    flag: 5,
    cp: 'DataTime=20160801085800;w01018-Rtd=40.1,w01018-Flag=N',
  };

  it('flags a lower-case CRC', () => {
    const frame = encodePacket(base, { lowercaseCrc: true });
    const r = decodePacket(frame);
    expect(packetOf(r).irregularities).toEqual(['crc-lowercase']);
    expect(decodePacket(frame, { policy: 'strict' })).toMatchObject({
      ok: false,
      error: { code: 'crc-lowercase' },
    });
  });

  it('flags a wrong declared length', () => {
    const good = encodePacket(base).toString('utf8');
    const bad = `##0999${good.slice(6)}`;
    expect(packetOf(decodePacket(bad)).irregularities).toEqual(['length-mismatch']);
    expect(decodePacket(bad, { policy: 'strict' })).toMatchObject({
      ok: false,
      error: { code: 'length-mismatch' },
    });
  });

  it('tolerates stray spaces and commas between top-level fields', () => {
    const s = 'QN=20160801085857223; ST=32;,CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=4;CP=&&&&';
    const p = packetOf(decodePacket(frameSegment(s)));
    expect(p.st).toBe('32');
    expect(p.cn).toBe('2011');
    expect(p.irregularities).toEqual(['stray-separator']);
    expect(decodePacket(frameSegment(s), { policy: 'strict' })).toMatchObject({
      ok: false,
      error: { code: 'stray-separator' },
    });
  });

  it('reads version 2025, split and ack bits from Flag', () => {
    const p = packetOf(decodePacket(encodePacket({ ...base, flag: 0b1011, pnum: 3, pno: 2 })));
    expect(p).toMatchObject({ version: '2025', split: true, ackRequested: true, pnum: 3, pno: 2 });
    const v0 = packetOf(decodePacket(encodePacket({ ...base, flag: 0 })));
    expect(v0).toMatchObject({ version: '2005', split: false, ackRequested: false });
    const unknown = packetOf(decodePacket(encodePacket({ ...base, flag: 0b11100 })));
    expect(unknown.version).toBeNull();
    expect(unknown.irregularities).toEqual(['flag-version-unknown']);
  });

  it('flags a malformed QN and unknown header fields', () => {
    const p = packetOf(
      decodePacket(frameSegment(encodeSegment({ ...base, qn: '2016' }).replace('ST=', 'XX=1;ST='))),
    );
    expect([...p.irregularities].sort()).toEqual(['qn-malformed', 'unknown-field']);
  });

  it('treats SBxxx-RS / RT as facility status values', () => {
    const p = packetOf(
      decodePacket(encodePacket({ ...base, cn: '2021', cp: 'DataTime=20160801085800;SB1-RS=1;SB1-RT=23.5' })),
    );
    expect(p.values).toEqual([
      { code: 'SB1', stat: 'RS', value: 1 },
      { code: 'SB1', stat: 'RT', value: 23.5 },
    ]);
  });

  it.each<[string, string | Buffer, string]>([
    ['empty input', '', 'frame-malformed'],
    ['no ##', 'QN=1;CP=&&&&1234', 'frame-malformed'],
    ['non-digit length', '##01a1QN=1;CP=&&&&1C80', 'frame-malformed'],
    ['non-hex CRC', '##0008CP=&&&&ZZZZ', 'crc-malformed'],
    [
      'wrong CRC',
      '##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C81',
      'crc-mismatch',
    ],
    ['no CP', frameSegment('QN=20160801085857223;ST=32;CN=1062;PW=1;MN=1;Flag=5').toString(), 'missing-cp'],
    ['unclosed CP', frameSegment('ST=32;CN=1062;PW=1;MN=1;CP=&&a=1').toString(), 'cp-malformed'],
    ['no CN', frameSegment('ST=32;PW=1;MN=1;CP=&&&&').toString(), 'missing-cn'],
    ['no ST', frameSegment('CN=2011;PW=1;MN=1;CP=&&&&').toString(), 'missing-st'],
    ['no MN', frameSegment('ST=32;CN=2011;PW=1;CP=&&&&').toString(), 'missing-mn'],
    ['no PW', frameSegment('ST=32;CN=2011;MN=1;CP=&&&&').toString(), 'missing-pw'],
    ['bad Flag', frameSegment('ST=32;CN=2011;PW=1;MN=1;Flag=x;CP=&&&&').toString(), 'invalid-flag'],
    [
      'split without PNUM',
      frameSegment('ST=32;CN=2011;PW=1;MN=1;Flag=6;PNO=1;CP=&&&&').toString(),
      'invalid-split',
    ],
    [
      'PNO > PNUM',
      frameSegment('ST=32;CN=2011;PW=1;MN=1;Flag=6;PNUM=2;PNO=3;CP=&&&&').toString(),
      'invalid-split',
    ],
    [
      'bad DataTime',
      frameSegment('ST=32;CN=2011;PW=1;MN=1;CP=&&DataTime=20161301000000&&').toString(),
      'invalid-datatime',
    ],
    [
      'bad number',
      frameSegment('ST=32;CN=2011;PW=1;MN=1;CP=&&a21026-Rtd=1.2.3&&').toString(),
      'invalid-number',
    ],
    ['text after CP', frameSegment('ST=32;CN=2011;PW=1;MN=1;CP=&&&&xyz').toString(), 'segment-malformed'],
    [
      'invalid UTF-8',
      Buffer.concat([Buffer.from('##0004'), Buffer.from([0xff, 0xfe, 0x41, 0x42]), Buffer.from('0000')]),
      'crc-mismatch',
    ],
  ])('rejects %s', (_name, input, code) => {
    const r = decodePacket(input);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.code).toBe(code);
    expect(!r.ok && r.error.message.length).toBeGreaterThan(0);
  });

  it('rejects invalid UTF-8 with a correct CRC', () => {
    const body = Buffer.concat([
      Buffer.from('ST=32;CN=2011;PW=1;MN=1;CP=&&i-Info=//'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('//&&'),
    ]);
    const line = Buffer.concat([
      Buffer.from(`##${String(body.length).padStart(4, '0')}`),
      body,
      Buffer.from(formatCrc(hj212Crc(body))),
    ]);
    expect(decodePacket(line)).toMatchObject({ ok: false, error: { code: 'invalid-utf8' } });
  });

  it('keeps the header of a packet with a wrong CRC (for the QnRtn=9 reply)', () => {
    const r = decodePacket(standard[0]!.line.replace(/1C80$/, '0000'));
    expect(r).toMatchObject({
      ok: false,
      error: { code: 'crc-mismatch' },
      header: { qn: '20160801085857223', mn: '010000A8900016F000169DC0', pw: '100000', flag: 5 },
    });
  });

  it('enforces the maximum segment size', () => {
    expect(decodePacket(standard[1]!.line, { maxSegmentBytes: 200 })).toMatchObject({
      ok: false,
      error: { code: 'frame-too-large' },
    });
  });
});

/** The regular-expression reading of a header that peekHeader replaced (the reference it must equal). */
function referencePeek(segment: Uint8Array): PacketHeader {
  const head = new TextDecoder('utf-8').decode(segment).split('CP=&&')[0] ?? '';
  const field = (key: string): string | null =>
    new RegExp(`(?:^|[;, ])${key}=([^;,&\\s]+)`).exec(head)?.[1] ?? null;
  const num = (key: string): number | null => {
    const v = field(key);
    return v !== null && /^\d{1,4}$/.test(v) ? Number(v) : null;
  };
  const flag = num('Flag');
  return {
    qn: field('QN'),
    st: field('ST'),
    cn: field('CN'),
    pw: field('PW'),
    mn: field('MN'),
    flag: flag !== null && flag <= 255 ? flag : null,
    pnum: num('PNUM'),
    pno: num('PNO'),
  };
}

describe('peekHeader', () => {
  it('reads what the regular expressions read, on mangled headers', () => {
    const pieces = ['QN=20160801085857223', 'ST=32', 'CN=', 'CN=2011', 'PW=1&2', 'MN=ab\tc', 'Flag=300', 'Flag=5',
      'PNUM=2', 'PNO=1', 'XQN=1', 'QN==', '中=文', '\u00a0MN=x', 'CP=&&a=1&&', ';', ',', ' ', '=', '\t', '&&'];
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    for (let k = 0; k < 3000; k++) {
      const text = Array.from({ length: rand(12) }, () => pieces[rand(pieces.length)]).join(['', ';', ','][rand(3)]);
      const bytes = Buffer.from(text, 'utf8');
      expect(peekHeader(bytes)).toEqual(referencePeek(bytes));
    }
  });
}); // prettier-ignore
