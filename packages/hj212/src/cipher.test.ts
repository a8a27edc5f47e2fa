import { createSm4EcbCipher, decryptCpContent, encryptCpContent, isSm4Available } from './cipher.js';
import { decodePacket } from './decode.js';
import { encodePacket } from './encoder.js';

const KEY = '0123456789abcdeffedcba9876543210';

describe('SM4-ECB segment cipher', () => {
  it('is available in this Node', () => {
    expect(isSm4Available()).toBe(true);
  });

  it('matches the GB/T 32907 test vector', () => {
    const c = createSm4EcbCipher(KEY, { padding: 'none' });
    const out = c.encrypt(Buffer.from(KEY, 'hex'));
    expect(out.toString('hex')).toBe('681edf34d206965e86b3e94f536e4246');
    expect(c.decrypt(out).toString('hex')).toBe(KEY);
  });

  it('rejects a key of the wrong size', () => {
    expect(() => createSm4EcbCipher('0011')).toThrow(expect.objectContaining({ code: 'cipher-key-invalid' }));
    expect(() => createSm4EcbCipher(Buffer.alloc(15))).toThrow(
      expect.objectContaining({ code: 'cipher-key-invalid' }),
    );
  });

  it.each(['hex', 'base64'] as const)('round-trips CP content with Chinese text (%s)', (enc) => {
    const c = createSm4EcbCipher(KEY);
    const text = 'DataTime=20100301145000;PolId=w01018;i11001-Info=//清洗管路//';
    const sealed = encryptCpContent(text, c, enc);
    expect(sealed).not.toContain('DataTime');
    expect(decryptCpContent(sealed, c, enc)).toEqual({ ok: true, value: text });
  });

  it('reports a wrong key or bad text as a typed error', () => {
    const sealed = encryptCpContent('a=1', createSm4EcbCipher(KEY), 'hex');
    const other = createSm4EcbCipher('00112233445566778899aabbccddeeff');
    expect(decryptCpContent(sealed, other, 'hex')).toMatchObject({
      ok: false,
      error: { code: 'decrypt-failed' },
    });
    expect(decryptCpContent('XYZ', other, 'hex')).toMatchObject({
      ok: false,
      error: { code: 'decrypt-failed' },
    });
  });

  it('decodes an encrypted 2025 packet with the key chosen per MN', () => {
    const cipher = createSm4EcbCipher(KEY);
    const frame = encodePacket(
      {
        qn: '20260101000000000',
        st: '44',
        cn: '2011',
        pw: '123456',
        mn: '010000A8900016F000169DC0',
        flag: 9,
        cp: 'DataTime=20260101000000;e30001-Rtd=12.5,e30001-Flag=N',
      },
      { cipher },
    );
    expect(frame.toString()).not.toContain('e30001');
    const keys = new Map([['010000A8900016F000169DC0', cipher]]);
    const r = decodePacket(frame, {
      policy: 'strict',
      cipherFor: (h) => (h.mn ? keys.get(h.mn) : undefined),
    });
    expect(r.ok && r.packet.values).toEqual([{ code: 'e30001', stat: 'Rtd', value: 12.5 }]);
    expect(r.ok && r.packet.version).toBe('2025');
    const wrong = decodePacket(frame, {
      cipherFor: () => createSm4EcbCipher('00112233445566778899aabbccddeeff'),
    });
    expect(wrong).toMatchObject({ ok: false, error: { code: 'decrypt-failed' } });
  });
});
