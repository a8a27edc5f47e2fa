import { signAckToken, verifyAckToken } from './ack.js';

describe('acknowledgement tokens', () => {
  const claims = { g: 'ent-1.default.100', r: '42', exp: Date.parse('2026-03-02T00:00:00Z') };
  const t = signAckToken(claims, 'secret-1');

  it('verifies before expiry and rejects after', () => {
    expect(verifyAckToken(t, 'secret-1', new Date('2026-03-01T00:00:00Z'))).toEqual({ ok: true, claims });
    expect(verifyAckToken(t, 'secret-1', new Date('2026-03-02T00:00:00Z'))).toEqual({
      ok: false,
      reason: 'expired',
    });
  });

  it('rejects a wrong secret, a tampered body and garbage', () => {
    const now = new Date('2026-03-01T00:00:00Z');
    expect(verifyAckToken(t, 'secret-2', now)).toEqual({ ok: false, reason: 'bad-signature' });
    const [, sig] = t.split('.');
    const forged = `${Buffer.from(JSON.stringify({ ...claims, r: '43' })).toString('base64url')}.${sig}`;
    expect(verifyAckToken(forged, 'secret-1', now)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifyAckToken('abc', 'secret-1', now)).toEqual({ ok: false, reason: 'malformed' });
  });
});
