import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serviceNodeArgs, serviceNodeFlags } from './service-process.js';

const services = fileURLToPath(new URL('../../../services/', import.meta.url));

describe('serviceNodeArgs', () => {
  it("takes each service's node flags from its npm start script and runs its sources with them", () => {
    const names = readdirSync(services);
    expect(names).toContain('mqtt-ingestor');
    for (const name of names) {
      const args = serviceNodeArgs(join(services, name));
      expect(args.slice(-4)).toEqual(['--conditions=offsite-source', '--import', 'tsx', 'src/main.ts']);
    }
    expect(serviceNodeFlags(join(services, 'mqtt-ingestor'))).toEqual(['--max-semi-space-size=64']);
    expect(serviceNodeArgs(join(services, 'mqtt-ingestor'))).toEqual([
      '--max-semi-space-size=64',
      '--conditions=offsite-source',
      '--import',
      'tsx',
      'src/main.ts',
    ]);
    expect(serviceNodeFlags(join(services, 'alerter'))).toEqual([]);
  });

  it('production systemd units run a service with the same node flags as its start script', () => {
    const units = fileURLToPath(new URL('../../../infra/production/systemd/', import.meta.url));
    const checked = readdirSync(services).filter((name) =>
      existsSync(join(units, `offsite-${name}.service`)),
    );
    expect(checked).toEqual(expect.arrayContaining(['influx-writer', 'mqtt-ingestor']));
    for (const name of checked) {
      const unit = readFileSync(join(units, `offsite-${name}.service`), 'utf8');
      const exec = /^ExecStart=\S*node (.*)$/m.exec(unit)?.[1]?.trim().split(/\s+/);
      expect({ name, args: exec }).toEqual({
        name,
        args: [...serviceNodeFlags(join(services, name)), 'dist/main.js'],
      });
    }
  });

  it('refuses a start script it cannot run without npm, and a dev script with other flags', () => {
    const dir = mkdtempSync(join(tmpdir(), 'offsite-start-'));
    try {
      writeFileSync(
        join(dir, 'package.json'),
        JSON.stringify({ scripts: { start: 'tsx watch src/main.ts' } }),
      );
      expect(() => serviceNodeArgs(dir)).toThrow(/start script is not/);
      writeFileSync(
        join(dir, 'package.json'),
        JSON.stringify({
          scripts: {
            start: 'node --max-semi-space-size=64 dist/main.js',
            dev: 'node --conditions=offsite-source --import tsx src/main.ts',
          },
        }),
      );
      expect(() => serviceNodeArgs(dir)).toThrow(/dev script must be/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
