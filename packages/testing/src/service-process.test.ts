import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serviceNodeArgs } from './service-process.js';

const services = fileURLToPath(new URL('../../../services/', import.meta.url));

describe('serviceNodeArgs', () => {
  it("takes each service's node flags from its npm start script", () => {
    const names = readdirSync(services);
    expect(names).toContain('mqtt-ingestor');
    for (const name of names) {
      const args = serviceNodeArgs(join(services, name));
      expect(args.slice(-3)).toEqual(['--import', 'tsx', 'src/main.ts']);
    }
    expect(serviceNodeArgs(join(services, 'mqtt-ingestor'))).toEqual([
      '--max-semi-space-size=64',
      '--import',
      'tsx',
      'src/main.ts',
    ]);
    expect(serviceNodeArgs(join(services, 'alerter'))).toEqual(['--import', 'tsx', 'src/main.ts']);
  });

  it('refuses a start script it cannot run without npm', () => {
    const dir = mkdtempSync(join(tmpdir(), 'offsite-start-'));
    try {
      writeFileSync(
        join(dir, 'package.json'),
        JSON.stringify({ scripts: { start: 'tsx watch src/main.ts' } }),
      );
      expect(() => serviceNodeArgs(dir)).toThrow(/start script is not/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
