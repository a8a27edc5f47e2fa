// Live updates (SSE over Postgres LISTEN): a stream ends with its session (logout, expiry), and the
// LISTEN connection comes back after a real Postgres restart (a private server of this file's own,
// so the shared one other tests use is never stopped) with a live update arriving afterwards.
import { privatePostgres, until, type PrivatePostgres } from '@offsite/testing';
import { CASES, createWorld, http, loginAs, openStream, rawRequest, type World } from './fixture.js';

describe('streams per session are capped', () => {
  let w: World;
  beforeAll(async () => {
    w = await createWorld({ streamsPerSession: 2 });
  });
  afterAll(async () => {
    await w.close();
  });

  test('one stream over the cap is refused with 429; the open ones and other sessions carry on', async () => {
    const s = await loginAs(w.base, 'supervisor');
    const first = await openStream(w.base, s.cookie);
    const second = await openStream(w.base, s.cookie);
    const third = await rawRequest(w.base, {
      method: 'GET',
      path: '/api/stream',
      headers: { cookie: s.cookie },
    });
    expect(third.statusCode).toBe(429);
    expect(JSON.parse(third.body)).toMatchObject({ code: 'TOO_MANY_STREAMS' });
    expect(third.body).toContain('live-update streams');
    expect(w.live.subscribers()).toBe(2);

    // Another session of the same user has its own allowance.
    const other = await loginAs(w.base, 'supervisor');
    const theirs = await openStream(w.base, other.cookie);
    expect(w.live.subscribers()).toBe(3);

    // The refused request did not end the open streams: both still get live updates.
    await w.pool.query(
      `update alert_cases set severity = 'critical', updated_at = now() where deviation_id = $1`,
      [CASES.landong],
    );
    await until(
      () => first.text().includes('event: case') && second.text().includes('event: case'),
      10_000,
      'a live update on both open streams',
    );

    // A closed stream frees its place.
    first.close();
    await until(() => w.live.subscribers() === 2, 10_000, 'the closed stream unsubscribed');
    const again = await openStream(w.base, s.cookie);
    expect(w.live.subscribers()).toBe(3);
    for (const x of [second, theirs, again]) x.close();
  });
});

describe('a stream ends with its session', () => {
  let w: World;
  beforeAll(async () => {
    // Sessions expire after 3 s without a request; the stream does not count as one.
    w = await createWorld({ idleMs: 3_000 });
  });
  afterAll(async () => {
    await w.close();
  });

  test('at logout: the stream is ended with session-ended and cannot be reopened', async () => {
    const s = await loginAs(w.base, 'supervisor');
    const stream = await openStream(w.base, s.cookie);
    const out = await http(w.base, {
      method: 'POST',
      url: '/api/logout',
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrf },
    });
    expect(out.statusCode).toBe(200);
    await stream.ended;
    expect(stream.text()).toContain('event: session-ended');
    await expect(openStream(w.base, s.cookie)).rejects.toThrow('stream answered 401');
  });

  test('at expiry: an idle session ends its stream although the stream stays open', async () => {
    const s = await loginAs(w.base, 'viewer');
    const stream = await openStream(w.base, s.cookie);
    await stream.ended;
    expect(stream.text()).toContain('event: session-ended');
    const r = await http(w.base, { method: 'GET', url: '/api/session', headers: { cookie: s.cookie } });
    expect(r.statusCode).toBe(401);
  });

  test('a session ended elsewhere (another console instance) ends the stream at the next check', async () => {
    const other = await createWorld({ streamSessionCheckMs: 200 });
    try {
      const s = await loginAs(other.base, 'supervisor');
      const stream = await openStream(other.base, s.cookie);
      // What another instance's logout does: the session row is gone; this process was not told.
      await other.pool.query('delete from console_sessions');
      await stream.ended;
      expect(stream.text()).toContain('event: session-ended');
    } finally {
      await other.close();
    }
  });
});

describe('after a Postgres restart', () => {
  let server: PrivatePostgres;
  let w: World;
  beforeAll(async () => {
    server = await privatePostgres();
    await server.start();
    w = await createWorld({ pgUrl: server.url, live: { retryMs: 100, maxRetryMs: 500 } });
  });
  afterAll(async () => {
    await w?.close().catch(() => undefined);
    await server?.destroy();
  });

  test('the LISTEN connection comes back, the stream is told to resync and live updates arrive again', async () => {
    const s = await loginAs(w.base, 'supervisor');
    const stream = await openStream(w.base, s.cookie);
    const caseEvents = () => stream.text().split('event: case').length - 1;
    const touch = () =>
      w.pool.query(
        `update alert_cases set severity = 'critical', updated_at = now() where deviation_id = $1`,
        [CASES.landong],
      );
    await touch();
    await until(() => caseEvents() === 1, 10_000, 'a live update before the restart');
    expect(w.live.isListening()).toBe(true);

    await server.stop();
    await until(() => !w.live.isListening(), 10_000, 'the loss of the LISTEN connection');
    await server.start();
    await until(() => w.live.isListening(), 30_000, 'the LISTEN connection re-established');
    expect(w.live.resumes()).toBe(1);
    await until(() => stream.text().includes('event: resync'), 5_000, 'the resync event');

    await touch();
    await until(() => caseEvents() === 2, 10_000, 'a live update after the restart');
    expect(stream.text()).toContain(`"id":"${CASES.landong}"`);
    stream.close();
  });
});
