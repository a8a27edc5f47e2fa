import { createDeviceDirectory, passwordMatches, type DeviceRecord } from './device-directory.js';

const dev = (mn: string, extra: Partial<DeviceRecord> = {}): DeviceRecord => ({
  mn,
  enterpriseId: 'ent-1',
  outletId: 'out-1',
  password: 'pw',
  sm4Key: null,
  protocolVersion: 2017,
  minuteIntervalS: 600,
  enabled: true,
  ...extra,
});

describe('device directory', () => {
  it('caches hits and misses for the TTL and shares concurrent lookups', async () => {
    let t = 0;
    const calls: string[] = [];
    const d = createDeviceDirectory({
      find: async (mn) => {
        calls.push(mn);
        return mn === 'A' ? dev('A') : null;
      },
      ttlMs: 1000,
      now: () => t,
    });
    const [a1, a2] = await Promise.all([d.lookup('A'), d.lookup('A')]);
    expect(a1?.enterpriseId).toBe('ent-1');
    expect(a2).toBe(a1);
    expect(await d.lookup('B')).toBeNull();
    expect(await d.lookup('B')).toBeNull();
    expect(calls).toEqual(['A', 'B']);
    t = 1001;
    await d.lookup('A');
    expect(calls).toEqual(['A', 'B', 'A']);
  });

  it('forgets everything on clear() (registry_changed)', async () => {
    let pw = 'old';
    const d = createDeviceDirectory({ find: async (mn) => dev(mn, { password: pw }), ttlMs: 60_000 });
    expect((await d.lookup('A'))?.password).toBe('old');
    pw = 'new';
    d.clear();
    expect((await d.lookup('A'))?.password).toBe('new');
  });

  it('does not cache a failed query', async () => {
    let fail = true;
    const d = createDeviceDirectory({
      find: async (mn) => {
        if (fail) throw new Error('pg down');
        return dev(mn);
      },
      ttlMs: 60_000,
    });
    await expect(d.lookup('A')).rejects.toThrow('pg down');
    fail = false;
    expect(await d.lookup('A')).not.toBeNull();
  });

  it('builds an SM4 cipher only for 2025 devices with a key', async () => {
    const d = createDeviceDirectory({
      find: async (mn) =>
        mn === 'new'
          ? dev(mn, { protocolVersion: 2025, sm4Key: '0123456789abcdeffedcba9876543210' })
          : dev(mn),
      ttlMs: 1000,
    });
    expect((await d.lookup('new'))?.cipher).toBeDefined();
    expect((await d.lookup('old'))?.cipher).toBeUndefined();
  });
});

describe('passwordMatches', () => {
  it('compares exactly, whatever the lengths', () => {
    expect(passwordMatches('Hd7q2Lx9', 'Hd7q2Lx9')).toBe(true);
    expect(passwordMatches('Hd7q2Lx', 'Hd7q2Lx9')).toBe(false);
    expect(passwordMatches('hd7q2Lx9', 'Hd7q2Lx9')).toBe(false);
    expect(passwordMatches(null, 'x')).toBe(false);
    expect(passwordMatches('', '')).toBe(true);
    expect(passwordMatches('', 'x')).toBe(false);
    expect(passwordMatches('x\u0000', 'x')).toBe(false);
    expect(passwordMatches('Hd7q2Lx9Hd7q2Lx9', 'Hd7q2Lx9')).toBe(false);
    expect(passwordMatches('密码', '密码')).toBe(true);
  });
});
