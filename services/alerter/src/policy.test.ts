import type { DeviationV1 } from '@offsite/contracts';
import { afterQuietHours, decide, defaultPolicy, groupKeyFor, scalePolicyTimers } from './policy.js';
import { ConfigError, loadConfig } from '@offsite/runtime';
import { AlerterEnv } from './config.js';
import { policyFromDocument } from './policy-file.js';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';

const policy = defaultPolicy();
const dev = (over: Partial<DeviationV1>): DeviationV1 => ({
  schema: 'deviation.v1',
  id: 'd1',
  rule: 'treatment-idle',
  state: 'opened',
  revision: 1,
  severity: 'medium',
  enterpriseId: 'ent-0001',
  siteId: 'm-1',
  windowStart: '2026-03-01T02:00:00Z',
  openedAt: '2026-03-01T02:30:00Z',
  suspectedFalsification: false,
  inResumptionWindow: false,
  evidence: { summary: 's', values: [], params: {} },
  emittedAt: '2026-03-01T02:31:00Z',
  ...over,
});
const ctx = { supervisionClass: 'key', inMaintenance: false, siteOffline: false };

describe('policy decision', () => {
  it('sends suspected falsification to supervisors only, even in a maintenance window', () => {
    const d = decide(
      dev({ rule: 'flatline', suspectedFalsification: true }),
      { ...ctx, inMaintenance: true },
      policy,
    );
    expect(d).toMatchObject({ kind: 'notify', supervisorsOnly: true, entry: { name: 'falsification' } });
    // A falsification rule is treated as such even if the flag was not set upstream.
    expect(decide(dev({ rule: 'o2-near-ambient' }), ctx, policy)).toMatchObject({ supervisorsOnly: true });
  });

  it('suppresses during a declared maintenance window and inhibits zero/capture while offline', () => {
    expect(decide(dev({}), { ...ctx, inMaintenance: true }, policy)).toEqual({
      kind: 'suppress',
      reason: 'maintenance-window',
    });
    expect(decide(dev({ rule: 'zero-while-running' }), { ...ctx, siteOffline: true }, policy)).toEqual({
      kind: 'suppress',
      reason: 'inhibited-by-offline',
    });
    expect(decide(dev({ rule: 'exceedance' }), { ...ctx, siteOffline: true }, policy)).toMatchObject({
      kind: 'notify',
    });
  });

  it('matches per severity and enterprise class, first entry wins', () => {
    expect(decide(dev({ severity: 'critical' }), ctx, policy)).toMatchObject({ entry: { name: 'urgent' } });
    expect(decide(dev({ severity: 'low' }), ctx, policy)).toMatchObject({ entry: { name: 'default' } });
    const onlyKey = {
      ...policy,
      entries: policy.entries.map((e) => ({ ...e, match: { ...e.match, classes: ['key'] } })),
    };
    expect(decide(dev({}), { ...ctx, supervisionClass: 'general' }, onlyKey)).toEqual({
      kind: 'suppress',
      reason: 'no-policy',
    });
  });
});

describe('quiet hours (Asia/Shanghai)', () => {
  const q = { start: '22:00', end: '07:00' };
  it('defers a non-urgent send at 23:30 Shanghai to 07:00 next morning', () => {
    // 2026-03-01 23:30 +08:00 = 15:30Z
    expect(afterQuietHours(new Date('2026-03-01T15:30:00Z'), q, false).toISOString()).toBe(
      '2026-03-01T23:00:00.000Z',
    );
    // 02:00 +08:00 the same night → 07:00 +08:00 that morning
    expect(afterQuietHours(new Date('2026-03-01T18:00:00Z'), q, false).toISOString()).toBe(
      '2026-03-01T23:00:00.000Z',
    );
  });
  it('leaves daytime and urgent sends alone', () => {
    const day = new Date('2026-03-01T02:00:00Z'); // 10:00 Shanghai
    expect(afterQuietHours(day, q, false)).toBe(day);
    const night = new Date('2026-03-01T15:30:00Z');
    expect(afterQuietHours(night, q, true)).toBe(night);
    expect(
      afterQuietHours(
        new Date('2026-03-01T14:00:00Z'),
        { start: '12:00', end: '13:00' },
        false,
      ).toISOString(),
    ).toBe('2026-03-01T14:00:00.000Z');
  });
});

it('groups deviations of one enterprise and policy within the group wait', () => {
  const a = groupKeyFor('ent-1', 'default', new Date(60_000 * 10 + 1), 60_000);
  expect(groupKeyFor('ent-1', 'default', new Date(60_000 * 10 + 59_000), 60_000)).toBe(a);
  expect(groupKeyFor('ent-1', 'default', new Date(60_000 * 11), 60_000)).not.toBe(a);
  expect(groupKeyFor('ent-2', 'default', new Date(60_000 * 10 + 1), 60_000)).not.toBe(a);
});

describe('timers scaled to the demo acceleration (OFFSITE_ALERTER_TIME_SCALE)', () => {
  it('divides group wait, repeat interval and escalation delay; leaves quiet hours and the ack lifetime', () => {
    const p = defaultPolicy();
    const s = scalePolicyTimers(p, 480);
    expect(s.groupWaitMs).toBe(125); // 60 s of event time = 125 ms of wall time at 480×
    s.entries.forEach((e, i) => {
      const o = p.entries[i]!;
      expect(e.repeat.intervalMs).toBe(Math.round(o.repeat.intervalMs / 480));
      expect(e.repeat.maxCount).toBe(o.repeat.maxCount);
      expect(e.escalateAfterMs).toBe(
        o.escalateAfterMs === undefined ? undefined : Math.round(o.escalateAfterMs / 480),
      );
    });
    expect(s.entries.some((e) => e.escalateAfterMs !== undefined)).toBe(true);
    expect(s.quietHours).toEqual(p.quietHours);
    expect(s.ackTtlMs).toBe(p.ackTtlMs);
    expect(p.groupWaitMs).toBe(60_000); // the input is not changed
    expect(scalePolicyTimers(p, 1)).toBe(p);
    expect(scalePolicyTimers({ ...p, groupWaitMs: 100 }, 1e6).groupWaitMs).toBe(1);
    expect(() => scalePolicyTimers(p, 0)).toThrow(RangeError);
  });

  it('is read from the environment, default 1, and refuses 0', () => {
    const base = {
      OFFSITE_KAFKA_BROKERS: '127.0.0.1:9092',
      OFFSITE_PG_URL: 'postgres://x',
      OFFSITE_REDIS_URL: 'redis://x',
      OFFSITE_ALERTER_ACK_SECRET: 'sixteen-chars-secret',
    };
    expect(loadConfig(AlerterEnv, base).OFFSITE_ALERTER_TIME_SCALE).toBe(1);
    expect(
      loadConfig(AlerterEnv, { ...base, OFFSITE_ALERTER_TIME_SCALE: '480' }).OFFSITE_ALERTER_TIME_SCALE,
    ).toBe(480);
    expect(() => loadConfig(AlerterEnv, { ...base, OFFSITE_ALERTER_TIME_SCALE: '0' })).toThrow(ConfigError);
  });
});

describe('policy file', () => {
  const file = async (name: string) => parseYaml(await readFile(new URL(name, import.meta.url), 'utf8'));

  it('reads the example policy and the demo’s', async () => {
    expect(policyFromDocument(await file('../policy.example.yaml')).entries.length).toBeGreaterThan(0);
    expect(
      policyFromDocument(await file('../../../scripts/demo/policy.yaml')).entries.length,
    ).toBeGreaterThan(0);
  });

  it('refuses a `staff` list, naming it and where recipients come from instead', async () => {
    const doc = {
      ...(await file('../policy.example.yaml')),
      staff: {
        districtOfficers: {},
        citySupervisors: [{ id: 'sup-x', name: '督查员', email: 'x@example.cn' }],
      },
    };
    let error: unknown;
    try {
      policyFromDocument(doc, 'policy.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'ALERTER_POLICY_INVALID' });
    expect((error as Error).message).toContain('Invalid policy in policy.yaml');
    expect((error as Error).message).toContain('/staff: not allowed');
    expect((error as Error).message).toContain("the console's users");
  });
});
