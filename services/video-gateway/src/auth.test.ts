import { authenticate, parsePlatforms, signature } from './auth.js';

const secret = 'k'.repeat(40);
const platforms = parsePlatforms([`city-video=${secret}`, `county-video=${'z'.repeat(32)}`]);
const body = Buffer.from('{"eventId":"e1"}');
const nowMs = Date.UTC(2026, 11, 7, 8, 0, 0);
const ts = String(nowMs / 1000);
const base = {
  platform: 'city-video',
  timestamp: ts,
  signature: signature(secret, ts, body),
  body,
  nowMs,
  windowS: 300,
};

test('a request signed with its platform secret over timestamp and body is accepted', () => {
  expect(authenticate(platforms, base)).toEqual({ ok: true, platform: 'city-video' });
});

test.each([
  ['no platform header', { platform: undefined }, 'video.auth-missing', 'x-offsite-platform'],
  ['an unknown platform', { platform: 'rogue' }, 'video.auth-unknown-platform', 'x-offsite-platform'],
  ['no timestamp', { timestamp: undefined }, 'video.auth-missing', 'x-offsite-timestamp'],
  ['a timestamp in ms', { timestamp: String(nowMs) }, 'video.auth-missing', 'x-offsite-timestamp'],
  ['no signature', { signature: undefined }, 'video.auth-bad-signature', 'x-offsite-signature'],
  [
    'another body',
    { body: Buffer.from('{"eventId":"e2"}') },
    'video.auth-bad-signature',
    'x-offsite-signature',
  ],
  [
    "another platform's secret",
    { platform: 'county-video' },
    'video.auth-bad-signature',
    'x-offsite-signature',
  ],
  ['a replay after the window', { nowMs: nowMs + 301_000 }, 'video.auth-stale', 'x-offsite-timestamp'],
  ['a timestamp from the future', { nowMs: nowMs - 301_000 }, 'video.auth-stale', 'x-offsite-timestamp'],
])('%s is refused with 401, naming the header in English and Chinese', (_what, change, code, field) => {
  const r = authenticate(platforms, { ...base, ...change });
  if (r.ok) throw new Error('expected a refusal');
  expect(r.rejection).toMatchObject({ status: 401, code, field });
  expect(r.rejection.message).toMatch(/\w/);
  expect(r.rejection.messageZh).toMatch(/[\u4e00-\u9fff]/);
});

test('a request inside the window (a redelivery) still authenticates: the event id makes it one alarm', () => {
  expect(authenticate(platforms, { ...base, nowMs: nowMs + 299_000 }).ok).toBe(true);
});

test('the platform list refuses short secrets, bad names and a platform named twice, without echoing a secret', () => {
  expect(() => parsePlatforms(['a=short'])).toThrow(/shorter than 32/);
  expect(() => parsePlatforms([`Bad Name=${secret}`])).toThrow(/platform=secret/);
  expect(() => parsePlatforms([`a=${secret}`, `a=${secret}`])).toThrow(/listed twice/);
  try {
    parsePlatforms(['a=short-secret-value']);
  } catch (err) {
    expect((err as Error).message).not.toContain('short-secret-value');
  }
});
