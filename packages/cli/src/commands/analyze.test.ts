import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dataCp, encodePacketLine } from '@offsite/hj212';
import { parseRegistryFile } from '@offsite/store';
import { registryViewFromFile } from './analyze-registry.js';
import { runCli } from '../run.test-fixtures.js';

const fixture = (name: string): string =>
  fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url));
const registry = fixture('analyze-registry.yaml');

const run = (argv: string[], stdin = '') => runCli(argv, stdin);

type Row = Record<string, unknown>;
const rows = (out: string): Row[] =>
  out
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Row);

describe('offsite analyze', () => {
  it('finds a two-hour NOx exceedance in HJ 212 minute packets: opened, updated, resolved', async () => {
    const { code, out, err } = await run(['analyze', '--registry', registry, fixture('analyze-nox.txt')]);
    expect(err).toBe('');
    expect(code).toBe(0);
    const all = rows(out);
    const nox = all.filter((r) => r.type === 'aggregate' && r.factor === 'a21002');
    expect(nox.map((r) => [r.start, r.value, r.convertedValue, r.valid, r.flag, r.coverage])).toEqual([
      ['2025-03-10T08:00:00+08:00', 20, 20, true, 'N', 1],
      ['2025-03-10T09:00:00+08:00', 80, 80, true, 'N', 1],
      ['2025-03-10T10:00:00+08:00', 80, 80, true, 'N', 1],
      ['2025-03-10T11:00:00+08:00', 20, 20, true, 'N', 1],
    ]);
    const exc = all.filter((r) => r.type === 'deviation' && r.rule === 'exceedance');
    expect(exc.map((r) => [r.state, r.revision, r.severity, r.windowStart, r.windowEnd])).toEqual([
      ['opened', 1, 'major', '2025-03-10T09:00:00+08:00', null],
      ['updated', 2, 'major', '2025-03-10T09:00:00+08:00', null],
      ['resolved', 3, 'major', '2025-03-10T09:00:00+08:00', '2025-03-10T11:00:00+08:00'],
    ]);
    expect(new Set(exc.map((r) => r.id))).toEqual(new Set(['e35e0f6d13c613b4a4f57bc3b8e45f06']));
    expect(exc[2]).toMatchObject({
      enterprise: 'ent-a1',
      site: 'out-a1-g1',
      factor: 'a21002',
      evidence: {
        limit: 50,
        confirmedAt: '2025-03-10T10:00:00+08:00',
        windows: [
          {
            start: '2025-03-10T09:00:00+08:00',
            end: '2025-03-10T10:00:00+08:00',
            value: 80,
            limit: 50,
            ratio: 1.6,
          },
          {
            start: '2025-03-10T10:00:00+08:00',
            end: '2025-03-10T11:00:00+08:00',
            value: 80,
            limit: 50,
            ratio: 1.6,
          },
        ],
      },
    });
    // The logger sends only 2051 (minute) data, none of its real-time stream: low capture, every hour.
    const low = all.filter((r) => r.type === 'deviation' && r.rule === 'low-capture');
    expect(low.map((r) => [r.state, r.revision, r.windowStart])).toEqual([
      ['opened', 1, '2025-03-10T08:00:00+08:00'],
      ['updated', 2, '2025-03-10T08:00:00+08:00'],
    ]);
    // The whole output, line for line (docs/cli-analyze.md shows it).
    expect(out).toBe(readFileSync(fixture('analyze-nox.expected.jsonl'), 'utf8'));
  });

  it('finds a flatline in telemetry JSON lines (suspected falsification)', async () => {
    const { code, out } = await run(['analyze', '--registry', registry, fixture('analyze-flatline.jsonl')]);
    expect(code).toBe(0);
    const all = rows(out);
    expect(all.filter((r) => r.type === 'deviation')).toEqual([
      {
        type: 'deviation',
        id: '02c4a452c98fe41fb289b2c11dda7315',
        rule: 'flatline',
        state: 'opened',
        revision: 1,
        severity: 'major',
        enterprise: 'ent-a1',
        site: 'out-a1-g1',
        factor: 'a21026',
        subject: 'a21026',
        windowStart: '2025-03-10T08:00:00+08:00',
        windowEnd: null,
        suspectedFalsification: true,
        inResumptionWindow: false,
        evidence: { interval: 'minute', value: 12.3, minCount: 6, confirmedAt: '2025-03-10T08:50:00+08:00' },
      },
    ]);
    expect(all.filter((r) => r.type === 'aggregate').map((r) => [r.factor, r.start, r.valid])).toEqual([
      ['a19001', '2025-03-10T08:00:00+08:00', true],
      ['a21026', '2025-03-10T08:00:00+08:00', true],
    ]);
  });

  it('takes HJ 212 and JSON lines mixed, from several inputs and standard input, in order', async () => {
    const nox = readFileSync(fixture('analyze-nox.txt'), 'utf8');
    const { code, out } = await run(
      ['analyze', '--registry', registry, fixture('analyze-flatline.jsonl'), '-'],
      nox,
    );
    expect(code).toBe(0);
    const rules = rows(out)
      .filter((r) => r.type === 'deviation')
      .map((r) => `${r.rule}:${r.state}`);
    expect(rules).toEqual(
      expect.arrayContaining(['flatline:opened', 'exceedance:opened', 'exceedance:resolved']),
    );
  });

  it('--until moves the final watermark: an hour still open at the end of the input gets closed', async () => {
    const lines = readFileSync(fixture('analyze-nox.txt'), 'utf8').split('\n').slice(0, 16).join('\n');
    const plain = rows((await run(['analyze', '--registry', registry, '--lateness', '0'], lines)).out);
    const until = rows(
      (await run(['analyze', '--registry', registry, '--until', '2025-03-10T12:00:00+08:00'], lines)).out,
    );
    const hours = (rs: Row[]) =>
      rs.filter((r) => r.type === 'aggregate' && r.factor === 'a21002').map((r) => r.start);
    expect(hours(plain)).toEqual(['2025-03-10T08:00:00+08:00', '2025-03-10T09:00:00+08:00']);
    expect(hours(until)).toEqual([
      '2025-03-10T08:00:00+08:00',
      '2025-03-10T09:00:00+08:00',
      '2025-03-10T10:00:00+08:00',
    ]);
  });

  it('reports unreadable lines and unknown devices on stderr with exit code 1, and keeps going', async () => {
    const packet = readFileSync(fixture('analyze-nox.txt'), 'utf8').split('\n')[1]!;
    const foreign = encodePacketLine({
      qn: '20250310080000000',
      st: '31',
      cn: '2051',
      pw: 'x',
      mn: '99010299FG00990000000002',
      flag: 5,
      cp: dataCp('20250310080000', [{ code: 'a21002', stat: 'Avg', value: 20 }]),
    });
    const corrupt = packet.replace('a21002-Avg=19', 'a21002-Avg=91');
    const { code, out, err } = await run(
      ['analyze', '--registry', registry],
      `garbage\n{"schema":1}\n${foreign}\n${corrupt}\n${packet}\n`,
    );
    expect(code).toBe(1);
    expect(
      err
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(': ')[0] + ': ' + l.split(': ')[1]),
    ).toEqual(['-:1: unknown-line', '-:2: schema-invalid', '-:3: unknown-mn', '-:4: crc-mismatch']);
    expect(out).toBe('');
  });

  it('rejects a missing or invalid registry as a usage error', async () => {
    expect((await run(['analyze', fixture('analyze-nox.txt')])).code).toBe(2);
    const bad = await run(['analyze', '--registry', fixture('analyze-nox.txt')]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('invalid registry');
  });
});

describe('offsite analyze registry mapping (as the analyzer service maps the store)', () => {
  const rules = (out: string) =>
    rows(out)
      .filter((r) => r.type === 'deviation')
      .map((r) => r.rule);

  it('realtimeIntervalS 0: a minute-only logger is judged on its minute data, not offline every 10 minutes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-analyze-'));
    try {
      const text = readFileSync(registry, 'utf8');
      const write = (rt: number) => {
        const f = join(dir, `reg-${rt}.yaml`);
        writeFileSync(f, text.replace('realtimeIntervalS: 600', `realtimeIntervalS: ${rt}`));
        return f;
      };
      const minuteOnly = await run(['analyze', '--registry', write(0), fixture('analyze-nox.txt')]);
      expect(minuteOnly.err).toBe('');
      expect(rules(minuteOnly.out)).not.toContain('offline');
      expect(rules(minuteOnly.out)).not.toContain('low-capture');
      expect(rules(minuteOnly.out)).toContain('exceedance');
      // The same data under a declared 30 s real-time cadence: the logger looks offline between its uploads.
      const realtime = await run(['analyze', '--registry', write(30), fixture('analyze-nox.txt')]);
      expect(rules(realtime.out)).toContain('offline');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fills treatment meter facilities (SBn-RS) and outlet production meters from the registry file', () => {
    const parsed = parseRegistryFile(
      readFileSync(fileURLToPath(new URL('../../../../registry/example.yaml', import.meta.url)), 'utf8'),
      'yaml',
    );
    if (!parsed.ok) throw new Error('example registry does not parse');
    const { view } = registryViewFromFile(parsed.registry);
    const meters = view.meters.filter((m) => m.enterpriseId === 'ent-0005');
    expect(meters.filter((m) => m.role === 'treatment').map((m) => m.facilities)).toEqual([
      [{ siteId: 'out-0005-g1', code: 'SB1' }],
      [{ siteId: 'out-0005-g1', code: 'SB2' }],
    ]);
    expect(view.outlets.find((o) => o.id === 'out-0005-g1')?.productionMeterIds).toEqual(['mtr-0005-p1']);
    // Outlets that list none keep the domain default (every production meter of the enterprise).
    expect(view.outlets.find((o) => o.id === 'out-0001-g1')).not.toHaveProperty('productionMeterIds');
    for (const d of view.devices)
      expect(d.cadenceInterval === 'realtime' ? d.cadenceSeconds > 0 : d.cadenceInterval === 'minute').toBe(
        true,
      );
  });
});
