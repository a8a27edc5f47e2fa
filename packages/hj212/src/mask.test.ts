import { decodePacket } from './decode.js';
import { encodePacket } from './encoder.js';
import { maskPasswords } from './mask.js';
import { FrameSplitter } from './splitter.js';

const frame = encodePacket({
  qn: '20240301101030123',
  st: '32',
  cn: '2011',
  pw: 'Hd7q2Lx9',
  mn: '99010201FG00010000000001',
  flag: 5,
  cp: 'DataTime=20240301101030;a21026-Rtd=35.2,a21026-Flag=N',
});

describe('maskPasswords', () => {
  it('masks the PW byte for byte and keeps every other byte, so the frame still splits', () => {
    const masked = maskPasswords(frame);
    expect(masked.toString()).toBe(frame.toString().replace('PW=Hd7q2Lx9;', 'PW=********;'));
    expect(masked).toHaveLength(frame.length);
    expect(frame.toString()).toContain('PW=Hd7q2Lx9'); // the input is not modified
    const events = new FrameSplitter().push(masked);
    expect(events.map((e) => e.kind)).toEqual(['frame']);
    // The CRC is the sender's: over the segment with the password in clear.
    const d = decodePacket(masked, { policy: 'strict' });
    expect(d.ok).toBe(false);
    expect(d.ok ? null : d.error.code).toBe('crc-mismatch');
  });

  it('masks NewPW of a set-password request, a PW first in the segment, and PW in a comma-separated header', () => {
    expect(maskPasswords(Buffer.from('QN=1;CN=1072;PW=abc;MN=X;CP=&&NewPW=s3cret&&')).toString()).toBe(
      'QN=1;CN=1072;PW=***;MN=X;CP=&&NewPW=******&&',
    );
    expect(maskPasswords(Buffer.from('##0020PW=123456;MN=X;CP=&&&&')).toString()).toBe(
      '##0020PW=******;MN=X;CP=&&&&',
    );
    expect(maskPasswords(Buffer.from('QN=1,PW=99,MN=2')).toString()).toBe('QN=1,PW=**,MN=2');
  });

  it('masks a PW right after the length of every frame in a joined garbage run, not only the first', () => {
    const run = Buffer.from('##0001##0020PW=123456;MN=X\r\nxx##0021NewPW=abcdef;MN=Y##0003PW=9;a01PW=5');
    expect(maskPasswords(run).toString()).toBe(
      '##0001##0020PW=******;MN=X\r\nxx##0021NewPW=******;MN=Y##0003PW=*;a01PW=5',
    );
  });

  it('leaves bytes without a password untouched (the same buffer) and ignores names ending in PW', () => {
    const plain = Buffer.from('##0001##0001garbage');
    expect(maskPasswords(plain)).toBe(plain);
    const other = Buffer.from('CP=&&a01PW=5&&');
    expect(maskPasswords(other)).toBe(other);
    const empty = Buffer.from('QN=1;PW=;MN=2');
    expect(maskPasswords(empty)).toBe(empty);
  });
});
