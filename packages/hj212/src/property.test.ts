/** Property tests: encode → decode round trip for arbitrary valid packets; decoding never throws. */
import fc from 'fast-check';
import { decodePacket } from './decode.js';
import { dataCp, encodePacket, type PacketInput } from './encoder.js';
import { FrameSplitter } from './splitter.js';
import { formatDataTime } from './time.js';

const digits = (n: number): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(...'0123456789'), { minLength: n, maxLength: n }).map((a) => a.join(''));
const hex24 = fc
  .array(fc.constantFrom(...'0123456789ABCDEF'), { minLength: 24, maxLength: 24 })
  .map((a) => a.join(''));
const date = fc.date({
  min: new Date('2000-01-01T00:00:00Z'),
  max: new Date('2099-12-31T00:00:00Z'),
  noInvalidDate: true,
});
const code = fc.tuple(fc.constantFrom('a', 'w', 'e', 'i'), digits(5)).map(([p, d]) => p + d);
const stat = fc.constantFrom('Rtd', 'Min', 'Avg', 'Max', 'Cou', 'ZsRtd', 'ZsAvg');
/** Decimal values as instruments report them (up to 4 decimals). */
const value = fc
  .tuple(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: 0, max: 4 }))
  .map(([m, s]) => m / 10 ** s);
const flag = fc.constantFrom('N', 'F', 'M', 'S', 'D', 'C', 'T', 'B');
const text = fc.string({ unit: fc.constantFrom(...'清洗管路维护abc ;,=-xyz0'), maxLength: 20 });

const reading = fc.record({ code, stat, value });
const packet = fc.record({
  qn: date.map((d) => `${formatDataTime(d)}${String(d.getUTCMilliseconds()).padStart(3, '0')}`),
  st: fc.constantFrom('21', '22', '31', '32', '44', '45', '91'),
  cn: fc.constantFrom('2011', '2051', '2061', '2031', '3020', '9015'),
  pw: fc.stringMatching(/^[0-9A-Za-z]{1,12}$/),
  mn: hex24,
  version: fc.integer({ min: 0, max: 2 }),
  ack: fc.boolean(),
  split: fc.option(
    fc.integer({ min: 1, max: 9 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 1, max: n }))),
  ),
  dataTime: date,
  readings: fc.uniqueArray(reading, { selector: (r) => `${r.code}-${r.stat}`, maxLength: 25 }),
  flags: fc.dictionary(code, flag, { maxKeys: 5 }),
  info: fc.option(text),
});

describe('properties', () => {
  it('decode(encode(p)) gives back p', () => {
    fc.assert(
      fc.property(packet, (p) => {
        const cp = dataCp(p.dataTime, p.readings, p.flags);
        if (p.info !== null) cp.push([{ key: 'i11001-Info', value: p.info }]);
        const input: PacketInput = {
          qn: p.qn,
          st: p.st,
          cn: p.cn,
          pw: p.pw,
          mn: p.mn,
          flag: (p.version << 2) | (p.split ? 2 : 0) | (p.ack ? 1 : 0),
          pnum: p.split?.[0] ?? null,
          pno: p.split?.[1] ?? null,
          cp,
        };
        const frame = encodePacket(input);
        const r = decodePacket(frame, { policy: 'strict' });
        if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message} in ${frame.toString()}`);
        const d = r.packet;
        expect(d).toMatchObject({ qn: p.qn, st: p.st, cn: p.cn, pw: p.pw, mn: p.mn, ackRequested: p.ack });
        expect(d.version).toBe(['2005', '2017', '2025'][p.version]);
        expect([d.pnum, d.pno]).toEqual(p.split ?? [null, null]);
        expect(d.dataTimeUtc).toBe(new Date(Math.floor(p.dataTime.getTime() / 1000) * 1000).toISOString());
        expect(d.values).toEqual(p.readings.map((x) => ({ code: x.code, stat: x.stat, value: x.value })));
        expect(d.flags).toEqual(p.flags);
        expect(d.texts).toEqual(p.info === null ? [] : [{ code: 'i11001', stat: 'Info', text: p.info }]);
        expect(d.segmentBytes).toBe(d.declaredLength);
        // and the splitter finds exactly this frame in a stream cut at an arbitrary point
        const cut = Math.floor(frame.length / 3);
        const s = new FrameSplitter({ policy: 'strict' });
        const events = [...s.push(frame.subarray(0, cut)), ...s.push(frame.subarray(cut))];
        expect(events).toEqual([{ kind: 'frame', frame }]);
      }),
      { numRuns: 500 },
    );
  });
});

describe('fuzz', () => {
  const valid = encodePacket({
    qn: '20160801085857223',
    st: '32',
    cn: '2061',
    pw: '123456',
    mn: '010000A8900016F000169DC0',
    flag: 7,
    pnum: 2,
    pno: 1,
    cp: 'DataTime=20160801080000;w00000-Cou=63.0,w00000-Flag=N;i11001-Info=//清洗;管路//;SB1-RS=1',
  });
  const isTyped = (r: ReturnType<typeof decodePacket>): boolean =>
    r.ok
      ? typeof r.packet.cn === 'string'
      : typeof r.error.code === 'string' && typeof r.error.message === 'string';

  it('arbitrary bytes give a typed result and never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(isTyped(decodePacket(bytes))).toBe(true);
        expect(
          isTyped(decodePacket(Buffer.concat([Buffer.from('##0101'), bytes]), { policy: 'strict' })),
        ).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('mutated valid frames give a typed result and never throw', () => {
    const mutation = fc.array(
      fc.record({
        at: fc.nat(valid.length - 1),
        byte: fc.integer({ min: 0, max: 255 }),
        op: fc.constantFrom('set', 'delete', 'insert'),
      }),
      { minLength: 1, maxLength: 6 },
    );
    fc.assert(
      fc.property(mutation, fc.constantFrom<'strict' | 'tolerant'>('strict', 'tolerant'), (muts, policy) => {
        const bytes = [...valid];
        for (const m of muts) {
          const at = Math.min(m.at, bytes.length);
          if (m.op === 'set') bytes[at] = m.byte;
          else if (m.op === 'delete') bytes.splice(at, 1);
          else bytes.splice(at, 0, m.byte);
        }
        const r = decodePacket(Uint8Array.from(bytes), { policy });
        expect(isTyped(r)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('arbitrary text (as from a capture file) gives a typed result', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'#0123456789QNSTCPWMF=;,&-/ 清abcdef\r\n'), maxLength: 200 }),
        (s) => {
          expect(isTyped(decodePacket(s))).toBe(true);
          expect(isTyped(decodePacket(`##${s}`))).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('the splitter never throws and never loses bytes on arbitrary chunks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 80 }), fc.constant(valid)), { maxLength: 12 }),
        (chunks) => {
          const s = new FrameSplitter({ maxSegmentBytes: 1024 });
          let out = 0;
          for (const c of chunks)
            for (const e of s.push(c)) out += e.kind === 'frame' ? e.frame.length : e.bytes.length;
          for (const e of s.end()) out += e.kind === 'frame' ? e.frame.length : e.bytes.length;
          expect(out).toBe(chunks.reduce((n, c) => n + c.length, 0));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
