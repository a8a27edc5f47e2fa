/** The quirks of test/fixtures/field-quirks.txt: tolerant accepts and records, strict rejects, replies never throw. */
import { loadFixture } from '../test/fixtures.js';
import { decideReply } from './ack.js';
import { decodePacket } from './decode.js';
import { encodePacket } from './encoder.js';

const quirks = loadFixture('field-quirks.txt');
const byCode = (code: string) => {
  const f = quirks.filter((q) => q.comment.startsWith(`${code}:`));
  if (f.length === 0) throw new Error(`no fixture for ${code}`);
  return f;
};

describe('field quirks', () => {
  it('Flag=3 and Flag=7 without PNUM/PNO: one whole packet with its version, recorded; strict rejects', () => {
    const [f3, f7] = byCode('split-without-pnum');
    for (const [f, version] of [
      [f3!, '2005'],
      [f7!, '2017'],
    ] as const) {
      const r = decodePacket(`${f.line}\r\n`);
      if (!r.ok) throw new Error(`${f.comment}: ${r.error.code}`);
      expect(r.packet).toMatchObject({ version, split: false, ackRequested: true, pnum: null, pno: null });
      expect(r.packet.irregularities).toEqual(['split-without-pnum']);
      expect(r.packet.values.map((v) => v.code)).toEqual(['a21026', 'a21002']);
      // The reply keeps the version bits and clears A and D, as for any reply.
      const reply = decideReply(r).reply!;
      expect(reply).toMatchObject({ cn: '9014', flag: version === '2005' ? 0 : 4 });
      const strict = decodePacket(f.line, { policy: 'strict' });
      expect(strict.ok).toBe(false);
      expect(!strict.ok && strict.error.code).toBe('split-without-pnum');
      expect(decideReply(strict).reply?.cp).toEqual([[{ key: 'QnRtn', value: '6' }]]);
    }
  });

  it('"," between header fields: the fields are read, recorded; strict rejects', () => {
    const [f] = byCode('comma-separator');
    const r = decodePacket(f!.line);
    if (!r.ok) throw new Error(r.error.code);
    expect(r.packet).toMatchObject({ qn: '20200922110000003', st: '32', cn: '2011' });
    expect(r.packet.irregularities).toEqual(['comma-separator']);
    const strict = decodePacket(f!.line, { policy: 'strict' });
    expect(!strict.ok && strict.error.code).toBe('comma-separator');
  });

  it('CRC-16/MODBUS printed high byte first: recognised, recorded; strict rejects with QnRtn=9', () => {
    const [f] = byCode('crc-modbus');
    const r = decodePacket(f!.line);
    if (!r.ok) throw new Error(r.error.code);
    expect(r.packet.crc).toMatchObject({ valid: true, variant: 'modbus' });
    expect(r.packet.irregularities).toEqual(['crc-modbus']);
    const strict = decodePacket(f!.line, { policy: 'strict' });
    expect(!strict.ok && strict.error.code).toBe('crc-modbus');
    expect(decideReply(strict).reply?.cp).toEqual([[{ key: 'QnRtn', value: '9' }]]);
  });

  it('an MN or QN a header cannot carry: the reply leaves it out and encodes; with neither, no reply', () => {
    const [mnSpace] = byCode('mn-nonstandard');
    const [qnControl] = byCode('qn-malformed');
    const [neither] = quirks.filter((q) => q.comment.startsWith('qn-malformed, mn-nonstandard'));
    const r1 = decodePacket(mnSpace!.line);
    if (!r1.ok) throw new Error(r1.error.code);
    expect(r1.packet.mn).toBe('0100 00A8=900016');
    const reply1 = decideReply(r1).reply!;
    expect(reply1).toMatchObject({ qn: '20200922110000005', mn: null, cn: '9014' });
    expect(() => encodePacket(reply1)).not.toThrow();

    const r2 = decodePacket(qnControl!.line);
    if (!r2.ok) throw new Error(r2.error.code);
    const reply2 = decideReply(r2).reply!;
    expect(reply2).toMatchObject({ qn: null, mn: '010000A8900016F000169DC0' });
    expect(encodePacket(reply2).toString()).not.toContain('QN=');

    const r3 = decodePacket(neither!.line);
    expect(r3.ok).toBe(true);
    const d3 = decideReply(r3);
    expect(d3.reply).toBeNull();
    expect(d3.reason).toContain('no QN or MN a reply can carry');
  });

  it('every quirk fixture gives a reply that encodes, or a reason for none, in both policies', () => {
    for (const q of quirks) {
      for (const policy of ['tolerant', 'strict'] as const) {
        const d = decideReply(decodePacket(q.line, { policy }));
        if (d.reply) expect(() => encodePacket(d.reply!)).not.toThrow();
        else expect(d.reason.length).toBeGreaterThan(0);
      }
    }
  });

  it('a frame that lost one "#" is rejected with a message saying so', () => {
    const r = decodePacket(quirks[0]!.line.slice(1));
    expect(!r.ok && r.error).toMatchObject({ code: 'frame-malformed' });
    expect(!r.ok && r.error.message).toContain('"#"');
  });
});
