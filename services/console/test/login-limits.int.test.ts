// Login limits against the real Redis (shared by every console instance): failures per source, per
// username and overall, a remembered browser (device cookie) that still gets in when its account or
// everything is locked for strangers, and the bound on concurrent argon2 work. Other source addresses
// are other loopback addresses (127.0.0.x).
import { createArgonGate } from '../src/login-guard.js';
import { createWorld, PASSWORD, rawRequest, type RawResult, type World } from './fixture.js';

const worlds: World[] = [];
afterAll(async () => {
  for (const w of worlds) await w.close();
});
async function world(o: Parameters<typeof createWorld>[0]): Promise<World> {
  const w = await createWorld(o);
  worlds.push(w);
  return w;
}

function tryLogin(
  w: World,
  from: string,
  username: string,
  password: string,
  device?: string,
): Promise<RawResult> {
  return rawRequest(w.base, {
    method: 'POST',
    path: '/api/login',
    payload: { username, password },
    localAddress: from,
    ...(device ? { headers: { cookie: `offsite_device=${device}` } } : {}),
  });
}
const deviceOf = (r: RawResult): string =>
  /offsite_device=([^;]+)/.exec([r.headers['set-cookie'] ?? []].flat().join('\n'))![1]!;

test('spraying usernames from one source is throttled after the per-source limit, before argon2', async () => {
  const gate = createArgonGate({ concurrency: 2, queue: 100 });
  const w = await world({ loginLimits: { maxPerSource: 5 }, argonGate: gate });
  const codes: number[] = [];
  for (let i = 0; i < 15; i++) codes.push((await tryLogin(w, '127.0.0.2', `spray-${i}`, 'guess')).statusCode);
  expect(codes).toEqual([...Array(5).fill(401), ...Array(10).fill(429)]);
  expect(gate.stats().runs).toBe(5);
  const refused = await tryLogin(w, '127.0.0.2', 'supervisor', PASSWORD);
  expect(refused.statusCode).toBe(429);
  expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  expect(JSON.parse(refused.body)).toMatchObject({
    code: 'RATE_LIMITED',
    message: expect.stringContaining(' / '),
  });
  // Another source is not affected.
  expect((await tryLogin(w, '127.0.0.3', 'supervisor', PASSWORD)).statusCode).toBe(200);
});

test('a sprayed user still logs in from a browser that logged in before; strangers are locked out', async () => {
  const w = await world({ loginLimits: { maxPerUser: 3, maxPerDevice: 2 } });
  const first = await tryLogin(w, '127.0.0.4', 'supervisor', PASSWORD);
  expect(first.statusCode).toBe(200);
  const device = deviceOf(first);

  const attack: number[] = [];
  for (const from of ['127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.5', '127.0.0.6'])
    attack.push((await tryLogin(w, from, 'supervisor', 'guess')).statusCode);
  expect(attack).toEqual([401, 401, 401, 429, 429]);
  // The right password from an unknown browser is refused while the account is locked for strangers…
  expect((await tryLogin(w, '127.0.0.8', 'supervisor', PASSWORD)).statusCode).toBe(429);
  // …but the real user's browser gets in, from its known source or another one.
  expect((await tryLogin(w, '127.0.0.4', 'supervisor', PASSWORD, device)).statusCode).toBe(200);
  expect((await tryLogin(w, '127.0.0.9', 'supervisor', PASSWORD, device)).statusCode).toBe(200);
  // A device cookie for another account is no pass.
  expect((await tryLogin(w, '127.0.0.4', 'viewer', 'guess', device)).statusCode).toBe(401);

  // A remembered browser that keeps failing loses its privilege (a stolen cookie is no brute-force pass).
  expect((await tryLogin(w, '127.0.0.4', 'supervisor', 'guess', device)).statusCode).toBe(401);
  expect((await tryLogin(w, '127.0.0.4', 'supervisor', 'guess', device)).statusCode).toBe(401);
  expect((await tryLogin(w, '127.0.0.4', 'supervisor', PASSWORD, device)).statusCode).toBe(429);
});

test('failures overall are limited too; remembered browsers still get in', async () => {
  const w = await world({ loginLimits: { maxOverall: 4 } });
  const known = await tryLogin(w, '127.0.0.10', 'viewer', PASSWORD);
  expect(known.statusCode).toBe(200);
  const codes: number[] = [];
  for (const [from, user] of [
    ['127.0.0.11', 'a'],
    ['127.0.0.12', 'b'],
    ['127.0.0.13', 'c'],
    ['127.0.0.14', 'd'],
    ['127.0.0.15', 'e'],
  ] as const)
    codes.push((await tryLogin(w, from, user, 'guess')).statusCode);
  expect(codes).toEqual([401, 401, 401, 401, 429]);
  expect((await tryLogin(w, '127.0.0.16', 'admin', PASSWORD)).statusCode).toBe(429);
  expect((await tryLogin(w, '127.0.0.16', 'viewer', PASSWORD, deviceOf(known))).statusCode).toBe(200);
});

test('argon2 work is bounded: beyond the running ones and the queue a login answers 503 at once', async () => {
  const gate = createArgonGate({ concurrency: 1, queue: 2 });
  const w = await world({ argonGate: gate });
  // Hold the slot and fill the queue.
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const holders = [gate.run(() => held), gate.run(() => held), gate.run(() => held)];
  const busy = await tryLogin(w, '127.0.0.20', 'supervisor', PASSWORD);
  expect(busy.statusCode).toBe(503);
  expect(busy.headers['retry-after']).toBe('1');
  expect(JSON.parse(busy.body)).toMatchObject({ code: 'BUSY' });
  release();
  await Promise.all(holders);

  // A burst: never more than one verification at a time, never more than two waiting, all answered.
  const burst = await Promise.all(
    Array.from({ length: 12 }, (_, i) => tryLogin(w, `127.0.1.${i + 1}`, `burst-${i}`, 'guess')),
  );
  expect(burst.every((r) => r.statusCode === 401 || r.statusCode === 503)).toBe(true);
  const s = gate.stats();
  expect(s.peakActive).toBeLessThanOrEqual(1);
  expect(s.peakWaiting).toBeLessThanOrEqual(2);
  expect(s.active + s.waiting).toBe(0);
  // Once the burst is over, logins go through again.
  expect((await tryLogin(w, '127.0.0.20', 'supervisor', PASSWORD)).statusCode).toBe(200);
});
