import { encodeSegment } from '@offsite/hj212';
import {
  afterAttempt,
  backfillRequests,
  backoffMs,
  commandPacket,
  TokenBucket,
  type CommandRow,
} from './command-plan.js';

const policy = { backoffMs: 1_000, maxBackoffMs: 5_000 };
const device = { st: '31', pw: '123456', mn: 'MN01', version: '2017' as const };
const row = (over: Partial<CommandRow> = {}): CommandRow => ({
  id: 'r1',
  mn: 'MN01',
  cn: '2051',
  beginTime: new Date('2026-03-01T00:00:00Z'),
  endTime: new Date('2026-03-01T02:00:00Z'),
  trigger: 'offline-closed',
  requestedBy: null,
  expiresAt: new Date(1_000_000),
  attempts: 1,
  maxAttempts: 3,
  nextAttemptAt: new Date(0),
  ...over,
});

describe('command packets', () => {
  it('a history request carries BeginTime/EndTime in Beijing time, asks for the 9011, keeps the version', () => {
    const seg = encodeSegment(commandPacket(row(), device, '20260301100000000', new Date()));
    expect(seg).toBe(
      'QN=20260301100000000;ST=31;CN=2051;PW=123456;MN=MN01;Flag=5;CP=&&BeginTime=20260301080000;EndTime=20260301100000&&',
    );
    const old = encodeSegment(
      commandPacket(row({ cn: '2061' }), { ...device, version: '2005' }, '20260301100000000', new Date()),
    );
    expect(old).toContain('CN=2061;PW=123456;MN=MN01;Flag=1;');
  });

  it('reads carry no parameters; 1012 carries the time of sending', () => {
    const at = new Date('2026-03-01T04:05:06Z');
    expect(encodeSegment(commandPacket(row({ cn: '1063' }), device, 'Q', at))).toContain('CN=1063;');
    expect(encodeSegment(commandPacket(row({ cn: '1061' }), device, 'Q', at))).toContain('CP=&&&&');
    expect(encodeSegment(commandPacket(row({ cn: '1012' }), device, 'Q', at))).toContain(
      'CP=&&SystemTime=20260301120506&&',
    );
  });

  it('a history request without its period is refused', () => {
    expect(() => commandPacket(row({ beginTime: null }), device, 'Q', new Date())).toThrow(
      /without its period/,
    );
  });
});

describe('after an attempt', () => {
  it('done is fulfilled, a refusal is final', () => {
    expect(afterAttempt(row(), 'done', '1', 0, policy)).toEqual({ status: 'fulfilled' });
    expect(afterAttempt(row(), 'refused', null, 0, policy)).toEqual({ status: 'refused' });
  });

  it('a timeout is retried with a doubling backoff until the attempts are spent', () => {
    expect(afterAttempt(row({ attempts: 1 }), 'timed-out', null, 100, policy)).toEqual({
      status: 'queued',
      nextAttemptAt: new Date(1_100),
    });
    expect(afterAttempt(row({ attempts: 2 }), 'timed-out', null, 100, policy)).toEqual({
      status: 'queued',
      nextAttemptAt: new Date(2_100),
    });
    expect(afterAttempt(row({ attempts: 3 }), 'timed-out', null, 100, policy)).toEqual({
      status: 'timed-out',
    });
  });

  it('busy and unknown failures are retried; no data and condition errors are final', () => {
    expect(afterAttempt(row(), 'failed', '5', 0, policy).status).toBe('queued');
    expect(afterAttempt(row(), 'failed', '2', 0, policy).status).toBe('queued');
    expect(afterAttempt(row(), 'failed', '100', 0, policy)).toEqual({ status: 'failed' });
    expect(afterAttempt(row(), 'failed', '3', 0, policy)).toEqual({ status: 'failed' });
  });

  it('a lost connection is tried again; a retry past the expiry expires', () => {
    expect(afterAttempt(row(), 'disconnected', null, 0, policy).status).toBe('queued');
    expect(afterAttempt(row({ expiresAt: new Date(500) }), 'timed-out', null, 0, policy)).toEqual({
      status: 'expired',
    });
  });

  it('backoff is capped', () => {
    expect([1, 2, 3, 4, 10].map((a) => backoffMs(a, policy))).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
  });
});

describe('fleet-wide rate', () => {
  it('allows the burst, then one per 1/rate, and says how long to wait', () => {
    const b = new TokenBucket(10, 3, 0);
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).toEqual([true, true, true, false]);
    expect(b.waitMs(0)).toBe(100);
    expect(b.take(50)).toBe(false);
    expect(b.take(100)).toBe(true);
    // Refilled up to the burst only.
    expect([b.take(10_000), b.take(10_000), b.take(10_000), b.take(10_000)]).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });
});

describe('backfill of an offline gap', () => {
  const H = 3_600_000;
  it('minute and hourly data from the hour the gap started in (the interval that was completing)', () => {
    const start = Date.parse('2026-03-01T01:20:00Z');
    const end = start + 2 * H;
    expect(backfillRequests({ start, end })).toEqual([
      { cn: '2051', begin: new Date('2026-03-01T01:00:00Z'), end: new Date(end) },
      { cn: '2061', begin: new Date('2026-03-01T01:00:00Z'), end: new Date(end) },
    ]);
  });

  it('daily data from the Beijing day it started in, for a gap of a day or more', () => {
    const start = Date.parse('2026-03-01T17:00:00Z'); // 01:00 on 2 March in Beijing
    const r = backfillRequests({ start, end: start + 30 * H });
    expect(r.map((x) => x.cn)).toEqual(['2051', '2061', '2031']);
    expect(r[2]!.begin).toEqual(new Date('2026-03-01T16:00:00Z'));
  });
});
