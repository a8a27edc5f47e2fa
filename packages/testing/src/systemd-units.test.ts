// The production systemd units (infra/production/systemd): one per service and server, hardened, and
// accepted by `systemd-analyze verify` without a single warning. systemd-analyze reads the units under
// a scratch root that holds the machine's own system units (targets, Debian's server units) and a
// stand-in executable for every command the units run, so it checks what it can offline: syntax,
// known keys, valid values, dependencies, and that every command is an absolute, existing path.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const unitsDir = join(repo, 'infra/production/systemd');
const SYSTEM_UNITS = '/usr/lib/systemd/system';
/** Test and demo tools, not deployed. */
const NOT_DEPLOYED = new Set(['simulator']);
const services = readdirSync(join(repo, 'services')).filter((s) => !NOT_DEPLOYED.has(s));
const units = readdirSync(unitsDir).filter((f) => f.endsWith('.service'));
const dropIns = readdirSync(unitsDir).filter((f) => f.endsWith('.service.d'));

/** Active (uncommented) `Key=value` lines of a unit file, continuation lines joined. */
function settings(text: string): Array<[string, string]> {
  const joined = text.replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .filter((l) => /^[A-Za-z]+=/.test(l))
    .map((l) => {
      const i = l.indexOf('=');
      return [l.slice(0, i), l.slice(i + 1)];
    });
}
const valuesOf = (text: string, key: string) =>
  settings(text)
    .filter(([k]) => k === key)
    .map(([, v]) => v);

describe('production systemd units', () => {
  it('exist for every service, Kafka and InfluxDB, with drop-ins for Debian’s Postgres, Redis and Mosquitto', () => {
    expect(units.sort()).toEqual(
      [
        ...services.map((s) => `offsite-${s}.service`),
        'offsite-influxdb.service',
        'offsite-kafka.service',
      ].sort(),
    );
    expect(dropIns.sort()).toEqual([
      'mosquitto.service.d',
      'postgresql@.service.d',
      'redis-server.service.d',
    ]);
  });

  it.each(services)(
    'offsite-%s.service runs as the offsite user, sandboxed, secrets as credentials',
    (name) => {
      const text = readFileSync(join(unitsDir, `offsite-${name}.service`), 'utf8');
      const one = (key: string) => valuesOf(text, key);
      expect(one('User')).toEqual(['offsite']);
      expect(one('ProtectSystem')).toEqual(['strict']);
      expect(one('NoNewPrivileges')).toEqual(['yes']);
      expect(one('CapabilityBoundingSet')).toEqual(['']);
      expect(one('Restart')).toEqual(['on-failure']);
      expect(one('RestartPreventExitStatus')).toEqual(['78']);
      expect(one('EnvironmentFile')).toEqual([`/etc/offsite/${name}.env`]);
      expect(one('WorkingDirectory')).toEqual([`/opt/offsite/${name}/services/${name}`]);
      // Writable: its own state directory, nothing else.
      for (const path of one('ReadWritePaths')) expect(path).toBe(`/var/lib/offsite/${name}`);
      // Every secret handed over as X_FILE comes from a credential of the same unit, and back.
      const credentials = one('LoadCredential').map((v) => v.split(':')[0]);
      const fileVars = one('Environment').filter((v) => /_FILE=%d\//.test(v));
      expect(fileVars.map((v) => v.split('%d/')[1]).sort()).toEqual([...credentials].sort());
      expect(credentials.length).toBeGreaterThan(0);
      // No secret value in the unit itself.
      expect(text).not.toMatch(/(PASSWORD|SECRET|TOKEN|_URL)=(?!.*_FILE)[^\s%]/);
    },
  );

  it('are accepted by systemd-analyze verify without warnings', () => {
    const found = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (found.error) {
      throw new Error(
        'systemd-analyze is missing: `npm run infra -- up` installs it (Debian package systemd)',
      );
    }
    const root = mkdtempSync(join(tmpdir(), 'offsite-systemd-'));
    try {
      const etc = join(root, 'etc/systemd/system');
      mkdirSync(etc, { recursive: true });
      cpSync(SYSTEM_UNITS, join(root, SYSTEM_UNITS), { recursive: true, verbatimSymlinks: true });
      const base: Record<string, string> = {
        'postgresql@.service.d': 'postgresql@.service',
        'redis-server.service.d': 'redis-server.service',
        'mosquitto.service.d': 'mosquitto.service',
      };
      // A Debian server package not installed here: its drop-in is checked against a minimal unit.
      for (const unit of Object.values(base)) {
        if (!existsSync(join(root, SYSTEM_UNITS, unit))) {
          writeFileSync(join(etc, unit), '[Service]\nExecStart=/usr/bin/true\n');
        }
      }
      for (const unit of units) cpSync(join(unitsDir, unit), join(etc, unit));
      for (const dir of dropIns) cpSync(join(unitsDir, dir), join(etc, dir), { recursive: true });
      // Stand-ins for every command the units (and the units they extend) run.
      const checked = [
        ...units,
        'postgresql@15-main.service',
        ...Object.values(base).filter((u) => !u.includes('@')),
      ];
      const texts = [
        ...units.map((u) => readFileSync(join(etc, u), 'utf8')),
        ...Object.values(base).map((u) =>
          existsSync(join(etc, u))
            ? readFileSync(join(etc, u), 'utf8')
            : readFileSync(join(root, SYSTEM_UNITS, u), 'utf8'),
        ),
        ...dropIns.flatMap((d) =>
          readdirSync(join(etc, d)).map((f) => readFileSync(join(etc, d, f), 'utf8')),
        ),
      ];
      for (const text of texts) {
        for (const [key, value] of settings(text)) {
          if (!key.startsWith('Exec') || value === '') continue;
          const command = value.replace(/^[-@:+!]+/, '').split(/\s+/)[0]!;
          const stub = join(root, command);
          if (existsSync(stub)) continue;
          mkdirSync(dirname(stub), { recursive: true });
          writeFileSync(stub, '#!/bin/sh\n');
          chmodSync(stub, 0o755);
        }
      }
      for (const unit of checked) {
        const res = spawnSync('systemd-analyze', ['verify', `--root=${root}`, unit], { encoding: 'utf8' });
        expect({ unit, status: res.status, stderr: res.stderr.trim(), stdout: res.stdout.trim() }).toEqual({
          unit,
          status: 0,
          stderr: '',
          stdout: '',
        });
      }
      // The sandbox as systemd rates it (0 = locked down, 10 = exposed): SAFE or OK for every unit.
      const ratings = units.map((unit) => {
        const out = execFileSync('systemd-analyze', ['security', '--offline=yes', `--root=${root}`, unit], {
          encoding: 'utf8',
        });
        return { unit, level: /Overall exposure level for \S+: ([\d.]+ [A-Z]+)/.exec(out)?.[1] ?? '?' };
      });
      process.stdout.write(
        `systemd-analyze security:\n  ${ratings.map((r) => `${r.unit} ${r.level}`).join('\n  ')}\n`,
      );
      for (const r of ratings)
        expect(r).toEqual({ unit: r.unit, level: expect.stringMatching(/ (SAFE|OK)$/) });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
