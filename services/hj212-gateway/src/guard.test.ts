import { AuthThrottle, ConnectionBudget, LogLimiter, SourceCounter, sourceKey } from './guard.js';

describe('ConnectionBudget', () => {
  const tight = { garbageBytes: 100, badFrames: 3, framesInFlight: 2 };
  const loose = { garbageBytes: 1000, badFrames: 10, framesInFlight: 32 };

  it('is tight until the first authenticated frame, then loose', () => {
    const b = new ConnectionBudget(tight, loose);
    expect(b.limits).toBe(tight);
    expect(b.garbage(50)).toBe('ok');
    expect(b.garbage(51)).toBe('garbage-budget');
    const c = new ConnectionBudget(tight, loose);
    c.validFrame(true);
    expect(c.isAuthenticated).toBe(true);
    expect(c.limits).toBe(loose);
    expect(c.garbage(500)).toBe('ok');
  });

  it('counts bad frames and garbage pieces together, and a valid frame starts the count again', () => {
    const b = new ConnectionBudget(tight, loose);
    expect(b.badFrame()).toBe('ok');
    expect(b.garbage(1)).toBe('ok');
    expect(b.badFrame()).toBe('ok');
    b.validFrame(false);
    expect(b.isAuthenticated).toBe(false);
    for (let i = 0; i < 3; i++) expect(b.badFrame()).toBe('ok');
    expect(b.badFrame()).toBe('bad-frame-budget');
  });
});

describe('AuthThrottle', () => {
  const opts = { windowMs: 1000, failuresPerSource: 3, failuresPerMn: 2 };

  it('blocks a source after its failures, until the window ends', () => {
    const t = new AuthThrottle(opts);
    for (let i = 0; i < 3; i++) {
      expect(t.blocked('a', `mn${i}`, 0)).toBeNull();
      t.failure('a', `mn${i}`, false, 0);
    }
    expect(t.blocked('a', 'x', 10)).toBe('source');
    expect(t.sourceBlocked('a', 999)).toBe(true);
    expect(t.blocked('b', 'x', 10)).toBeNull();
    expect(t.sourceBlocked('a', 1000)).toBe(false);
  });

  it('lets each new source try a throttled MN a few times (the PW still checked), and known pairs always', () => {
    const t = new AuthThrottle({ ...opts, attemptsPerPair: 2 });
    t.success('home', 'M');
    t.failure('x', 'M', true, 0);
    t.failure('y', 'M', true, 0);
    // Over the MN limit: a new source gets two attempts in the window, then none.
    expect(t.blocked('z', 'M', 1)).toBeNull();
    t.failure('z', 'M', true, 1);
    expect(t.blocked('z', 'M', 2)).toBeNull();
    expect(t.blocked('z', 'M', 3)).toBe('mn');
    expect(t.blocked('z', 'M', 999)).toBe('mn');
    // Another new source (the real logger after an address change) still gets its attempts.
    expect(t.blocked('w', 'M', 4)).toBeNull();
    t.success('w', 'M');
    for (let i = 0; i < 5; i++) expect(t.blocked('w', 'M', 5)).toBeNull();
    expect(t.blocked('home', 'M', 1)).toBeNull();
    expect(t.blocked('z', 'other', 1)).toBeNull();
    // Unknown-MN failures do not count against that MN (anyone could name any MN).
    t.failure('x', 'N', false, 0);
    t.failure('y', 'N', false, 0);
    expect(t.blocked('q', 'N', 1)).toBeNull();
  });

  it('never throttles an authenticated connection or a known pair by its source', () => {
    const t = new AuthThrottle(opts);
    t.success('nat', 'M');
    for (let i = 0; i < 3; i++) t.failure('nat', `bad${i}`, false, 0);
    expect(t.blocked('nat', 'other', 1)).toBe('source');
    expect(t.blocked('nat', 'M', 1)).toBeNull();
    expect(t.blocked('nat', 'other', 1, true)).toBeNull();
  });

  it('forgets the oldest known source of an MN instead of refusing a new one', () => {
    const t = new AuthThrottle({ ...opts, knownPerMn: 2, attemptsPerPair: 1 });
    t.success('a', 'M');
    t.success('b', 'M');
    t.success('c', 'M');
    t.failure('x', 'M', true, 0);
    t.failure('x', 'M', true, 0);
    expect(t.blocked('c', 'M', 1)).toBeNull();
    expect(t.blocked('c', 'M', 1)).toBeNull();
    expect(t.blocked('b', 'M', 1)).toBeNull();
    expect(t.blocked('b', 'M', 1)).toBeNull();
    expect(t.blocked('a', 'M', 1)).toBeNull();
    expect(t.blocked('a', 'M', 1)).toBe('mn');
  });

  it('keeps its tables bounded, dropping the oldest entries', () => {
    const t = new AuthThrottle({ ...opts, failuresPerSource: 1, maxEntries: 2 });
    t.failure('a', null, false, 0);
    t.failure('b', null, false, 0);
    t.failure('c', null, false, 0);
    expect(t.sourceBlocked('a', 1)).toBe(false);
    expect(t.sourceBlocked('b', 1)).toBe(true);
    expect(t.sourceBlocked('c', 1)).toBe(true);
  });
});

describe('sourceKey', () => {
  it('keeps IPv4 addresses (also IPv4-mapped) and keys IPv6 addresses by their /64', () => {
    expect(sourceKey('10.1.2.3')).toBe('10.1.2.3');
    expect(sourceKey('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(sourceKey('2001:db8:aa:bb:1:2:3:4')).toBe('2001:db8:aa:bb::/64');
    expect(sourceKey('2001:0DB8:00aa:bb::9')).toBe('2001:db8:aa:bb::/64');
    expect(sourceKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(sourceKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(sourceKey('::1')).toBe('0:0:0:0::/64');
  });
});

describe('LogLimiter', () => {
  it('allows N lines a second and reports the suppressed count with the next line', () => {
    const l = new LogLimiter(2);
    expect(l.take(0)).toEqual({ ok: true, suppressed: 0 });
    expect(l.take(1)).toEqual({ ok: true, suppressed: 0 });
    expect(l.take(2)).toEqual({ ok: false });
    expect(l.take(3)).toEqual({ ok: false });
    expect(l.take(1000)).toEqual({ ok: true, suppressed: 2 });
    expect(l.totalSuppressed).toBe(2);
  });
});

describe('SourceCounter', () => {
  it('counts open connections per source and forgets a source with none', () => {
    const c = new SourceCounter();
    c.add('a');
    c.add('a');
    c.add('b');
    expect(c.count('a')).toBe(2);
    c.remove('a');
    c.remove('b');
    expect(c.count('a')).toBe(1);
    expect(c.sources).toBe(1);
  });
});
