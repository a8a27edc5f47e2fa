import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { formatRegistryIssues, parseRegistryFile, validateRegistry } from './registry-parse.js';
import type { RegistryFile, RegistryIssue } from './registry-types.js';

const exampleText = readFileSync(new URL('../../../registry/example.yaml', import.meta.url), 'utf8');
type Raw = Record<string, unknown>;
const raw = (): Raw & { enterprises: Raw[]; districts: Raw[] } => parseYaml(exampleText) as never;
const at = (o: Raw, ...keys: (string | number)[]): Raw => keys.reduce<Raw>((x, k) => (x as never)[k], o);

function issuesOf(data: unknown): RegistryIssue[] {
  const r = validateRegistry(data);
  if (r.ok) throw new Error('expected the registry to be invalid');
  return r.issues;
}
const paths = (data: unknown) => issuesOf(data).map((i) => i.path);

function minimal(): Raw & { enterprises: Raw[] } {
  return {
    version: 1,
    districts: [{ id: 'd1', name: { zh: '一区', en: 'District 1' } }],
    enterprises: [
      {
        id: 'ent-1',
        name: { zh: '测试企业' },
        creditCode: '9144030071526726XG',
        district: 'd1',
        industry: 'other',
        supervisionClass: 'general',
      },
    ],
  };
}

describe('the example registry', () => {
  const result = parseRegistryFile(exampleText, 'yaml');

  test('is valid', () => {
    if (!result.ok) throw new Error(formatRegistryIssues(result.issues));
    expect(result.registry.districts).toHaveLength(3);
    expect(result.registry.enterprises).toHaveLength(12);
  });

  test('has the promised variety', () => {
    const reg = (result as { registry: RegistryFile }).registry;
    const gasRefs = reg.enterprises.flatMap((e) =>
      e.outlets.filter((o) => o.kind === 'gas').map((o) => o.refO2Pct),
    );
    expect(gasRefs).toEqual(expect.arrayContaining([6, 3.5, 11]));
    expect(reg.enterprises.filter((e) => e.status === 'resuming').map((e) => e.id)).toEqual(['ent-0008']);
    expect(reg.enterprises.flatMap((e) => e.violations).length).toBeGreaterThanOrEqual(3);
    const phones = reg.enterprises
      .flatMap((e) => e.contacts.map((c) => c.phone))
      .filter((p) => p?.startsWith('1'));
    for (const p of phones) expect(p).toMatch(/^1380000\d{4}$/);
    for (const e of reg.enterprises.flatMap((x) => x.contacts.map((c) => c.email)).filter(Boolean)) {
      expect(e).toMatch(/\.example\.com$/);
    }
  });

  test('reads the same from JSON', () => {
    const fromJson = parseRegistryFile(JSON.stringify(parseYaml(exampleText)), 'json');
    expect(fromJson).toEqual(result);
  });
});

test('defaults are filled and times normalised to UTC', () => {
  const data = minimal();
  data.enterprises[0]!.statusTimeline = [
    { status: 'shutdown', from: '2026-01-01T00:00:00+08:00' },
    { status: 'resuming', from: '2026-02-01T08:30:00+08:00', resumptionDate: '2026-02-01' },
  ];
  data.enterprises[0]!.outlets = [
    {
      id: 'o1',
      kind: 'gas',
      name: { zh: '排口' },
      refO2Pct: 9,
      process: 'coal-boiler',
      devices: [{ mn: 'MN1', password: 'pw', protocolVersion: 2017 }],
      limits: [{ factor: 'a21026', basis: 'hourly', value: 200, unit: 'mg/m3' }],
    },
  ];
  data.enterprises[0]!.contacts = [
    { name: '张三', role: 'legal', email: 'z@example.com', wechatOpenid: 'oia2TjuEGTNoeX76QEjQNrcURxG8' },
  ];
  const r = validateRegistry(data);
  if (!r.ok) throw new Error(formatRegistryIssues(r.issues));
  const e = r.registry.enterprises[0]!;
  expect(e.contacts[0]!.wechatOpenid).toBe('oia2TjuEGTNoeX76QEjQNrcURxG8');
  expect(e.status).toBe('resuming');
  expect(e.statusTimeline.map((t) => t.from)).toEqual([
    '2025-12-31T16:00:00.000Z',
    '2026-02-01T00:30:00.000Z',
  ]);
  expect(e.outlets[0]!.process).toBe('coal-boiler');
  expect(e.outlets[0]!.devices[0]).toEqual({
    mn: 'MN1',
    password: 'pw',
    protocolVersion: 2017,
    realtimeIntervalS: 30,
    minuteIntervalS: 600,
    enabled: true,
  });
  expect(e.outlets[0]!.limits[0]).toEqual({
    factor: 'a21026',
    basis: 'hourly',
    value: 200,
    unit: 'mg/m3',
    converted: false,
  });
  expect(e.contacts[0]!.language).toBe('zh');
  expect(e.meters).toEqual([]);
});

test('every problem is reported with its path, in Chinese and English', () => {
  const data = raw();
  at(data, 'enterprises', 3, 'outlets', 0, 'limits', 1).unit = 'mg/m3'; // gas unit on a water outlet
  at(data, 'enterprises', 0).creditCode = '91990102MA0Q1H7K3G'; // wrong check character
  at(data, 'enterprises', 1).district = 'dist-nowhere';
  at(data, 'enterprises', 2, 'outlets', 0, 'devices', 0).protocolVersion = 2019;
  at(data, 'enterprises', 5).supervisonClass = 'key'; // typo
  const issues = issuesOf(data);
  expect(issues.map((i) => [i.path, i.code])).toEqual([
    ['enterprises[0].creditCode', 'credit-code'],
    ['enterprises[1].district', 'reference'],
    ['enterprises[2].outlets[0].devices[0].protocolVersion', 'enum'],
    ['enterprises[3].outlets[0].limits[1].unit', 'enum'],
    ['enterprises[5].supervisonClass', 'unknown-field'],
  ]);
  for (const i of issues) {
    expect(i.message).toMatch(/[a-z]/);
    expect(i.messageZh).toMatch(/[\u4e00-\u9fff]/);
  }
  expect(formatRegistryIssues(issues).split('\n')).toHaveLength(5);
});

test('numbers where strings belong are refused, not converted', () => {
  // YAML reads an unquoted 012345 as 12345: a device would be locked out by a lost zero.
  const r = parseRegistryFile(exampleText.replace("password: 'Hd7q2Lx9'", 'password: 012345'), 'yaml');
  expect(r.ok).toBe(false);
  const issue = (r as { issues: RegistryIssue[] }).issues[0]!;
  expect(issue.path).toBe('enterprises[0].outlets[0].devices[0].password');
  expect(issue.message).toContain('quote');
});

test('identifiers must be unique across the file', () => {
  const data = raw();
  at(data, 'enterprises', 1, 'outlets', 0, 'devices', 0).mn = '99010201FG00010000000001';
  at(data, 'enterprises', 2, 'outlets', 0).id = 'out-0001-g1';
  at(data, 'enterprises', 4).creditCode = at(data, 'enterprises', 0).creditCode;
  at(data, 'enterprises', 0, 'contacts', 2).role = 'env-manager';
  at(data, 'enterprises', 0, 'contacts', 2).name = '钱立新';
  expect(paths(data)).toEqual([
    'enterprises[0].contacts[2]',
    'enterprises[1].outlets[0].devices[0].mn',
    'enterprises[2].outlets[0].id',
    'enterprises[4].creditCode',
  ]);
  expect(issuesOf(data).every((i) => i.code === 'duplicate')).toBe(true);
});

test('cross-field rules', () => {
  const data = raw();
  at(data, 'enterprises', 2, 'outlets', 0).refO2Pct = 6; // water outlet
  at(data, 'enterprises', 11, 'outlets', 0, 'limits', 0).converted = true; // gas outlet without refO2Pct
  at(data, 'enterprises', 0, 'outlets', 0, 'limits', 0).value = 300; // above the instrument range 200
  at(data, 'enterprises', 0, 'outlets', 0, 'limits', 1).factor = 'w01018'; // water factor on a gas outlet
  at(data, 'enterprises', 0, 'meters', 1).serves = 'mtr-0001-all'; // not a production meter
  at(data, 'enterprises', 1, 'meters', 0).serves = 'mtr-0002-t1'; // production meters serve nothing
  at(data, 'enterprises', 4, 'maintenanceWindows', 0).to = '2026-12-02T08:00:00+08:00'; // before from
  at(data, 'enterprises', 4, 'maintenanceWindows', 0).device = '99010201FG00010000000001'; // another enterprise's device
  at(data, 'enterprises', 7, 'statusTimeline', 2).resumptionDate = null; // resuming needs a date
  at(data, 'enterprises', 7).status = 'normal'; // contradicts the timeline
  at(data, 'enterprises', 3, 'contacts', 0).phone = null; // neither phone nor email
  expect(paths(data)).toEqual([
    'enterprises[0].outlets[0].limits[0].range.max',
    'enterprises[0].outlets[0].limits[1].factor',
    'enterprises[0].meters[1].serves',
    'enterprises[1].meters[0].serves',
    'enterprises[2].outlets[0].refO2Pct',
    'enterprises[3].contacts[0]',
    'enterprises[4].maintenanceWindows[0].device',
    'enterprises[4].maintenanceWindows[0].to',
    'enterprises[7].statusTimeline[2].resumptionDate',
    'enterprises[7].status',
    'enterprises[11].outlets[0].limits[0].converted',
  ]);
});

test('formats of values', () => {
  const data = minimal();
  const e = data.enterprises[0]!;
  e.id = 'Ent 1';
  e.statusTimeline = [
    { status: 'shutdown', from: '2026-01-01 00:00:00' }, // no offset: ambiguous
    { status: 'resuming', from: '2026-02-30T00:00:00Z', resumptionDate: '2026-13-01' },
  ];
  e.contacts = [
    {
      name: '张三',
      role: 'boss',
      phone: '12345',
      email: 'not-an-email',
      wechatOpenid: 'o 1',
      language: 'fr',
    },
  ];
  e.violations = [{ id: 'v1', date: '2026-01-01', kind: 'exceedance', serious: 'yes', description: 'x' }];
  expect(issuesOf(data).map((i) => [i.path, i.code])).toEqual([
    ['enterprises[0].id', 'format'],
    ['enterprises[0].statusTimeline[0].from', 'format'],
    ['enterprises[0].statusTimeline[1].from', 'format'],
    ['enterprises[0].statusTimeline[1].resumptionDate', 'format'],
    ['enterprises[0].contacts[0].role', 'enum'],
    ['enterprises[0].contacts[0].phone', 'format'],
    ['enterprises[0].contacts[0].email', 'format'],
    ['enterprises[0].contacts[0].wechatOpenid', 'format'],
    ['enterprises[0].contacts[0].language', 'enum'],
    ['enterprises[0].violations[0].serious', 'type'],
  ]);
});

test('timeline entries must be in increasing order', () => {
  const data = minimal();
  data.enterprises[0]!.statusTimeline = [
    { status: 'normal', from: '2026-03-01T00:00:00+08:00' },
    { status: 'shutdown', from: '2026-02-28T16:00:00Z' }, // the same instant
  ];
  expect(issuesOf(data).map((i) => [i.path, i.code])).toEqual([
    ['enterprises[0].statusTimeline[1].from', 'consistency'],
  ]);
});

test('structural problems', () => {
  expect(paths(null)).toEqual(['(root)']);
  expect(paths({ version: 2, districts: {}, enterprises: [42] })).toEqual([
    'version',
    'districts',
    'enterprises[0]',
  ]);
  expect(paths({ version: 1 })).toEqual(['districts', 'enterprises']);
});

test('syntax errors of either format are reported, not thrown', () => {
  const yaml = parseRegistryFile('version: 1\ndistricts: [\n', 'yaml');
  expect(yaml.ok).toBe(false);
  expect((yaml as { issues: RegistryIssue[] }).issues[0]!.code).toBe('syntax');
  const dup = parseRegistryFile('version: 1\nversion: 1\n', 'yaml');
  expect((dup as { issues: RegistryIssue[] }).issues[0]!.code).toBe('syntax');
  const json = parseRegistryFile('{"version": 1,', 'json');
  expect((json as { issues: RegistryIssue[] }).issues.map((i) => i.code)).toEqual(['syntax']);
});

describe('registry mappings for the treatment rules', () => {
  test('the example maps the incinerator scrubber and baghouse to their status series', () => {
    const r = parseRegistryFile(exampleText, 'yaml');
    if (!r.ok) throw new Error(formatRegistryIssues(r.issues));
    const e = r.registry.enterprises.find((x) => x.id === 'ent-0005')!;
    expect(e.meters.map((m) => [m.id, m.facilities])).toEqual([
      ['mtr-0005-p1', undefined],
      ['mtr-0005-t1', [{ outlet: 'out-0005-g1', code: 'SB1' }]],
      ['mtr-0005-t2', [{ outlet: 'out-0005-g1', code: 'SB2' }]],
    ]);
    expect(e.outlets[0]!.productionMeters).toEqual(['mtr-0005-p1']);
    // Files without the new fields parse to exactly what they parsed to before (no empty lists).
    const power = r.registry.enterprises[0]!;
    expect('productionMeters' in power.outlets[0]!).toBe(false);
    expect(power.meters.some((m) => 'facilities' in m)).toBe(false);
  });

  test('a logger without real-time uploads declares realtimeIntervalS 0; negatives are refused', () => {
    const data = minimal();
    data.enterprises[0]!.outlets = [
      {
        id: 'o1',
        kind: 'water',
        name: { zh: '排口' },
        devices: [
          { mn: 'MN1', password: 'pw', protocolVersion: 2017, realtimeIntervalS: 0, minuteIntervalS: 3600 },
        ],
      },
    ];
    const r = validateRegistry(data);
    if (!r.ok) throw new Error(formatRegistryIssues(r.issues));
    expect(r.registry.enterprises[0]!.outlets[0]!.devices[0]).toMatchObject({
      realtimeIntervalS: 0,
      minuteIntervalS: 3600,
    });
    at(data, 'enterprises', 0, 'outlets', 0, 'devices', 0).realtimeIntervalS = -1;
    expect(issuesOf(data).map((i) => [i.path, i.code])).toEqual([
      ['enterprises[0].outlets[0].devices[0].realtimeIntervalS', 'range'],
    ]);
    at(data, 'enterprises', 0, 'outlets', 0, 'devices', 0).realtimeIntervalS = 0.5;
    expect(paths(data)).toEqual(['enterprises[0].outlets[0].devices[0].realtimeIntervalS']);
  });

  test('cameras: the example links two of its video platform to a wastewater outlet', () => {
    const r = validateRegistry(raw());
    if (!r.ok) throw new Error(formatRegistryIssues(r.issues));
    const chem = r.registry.enterprises.find((e) => e.id === 'ent-0003')!;
    expect(chem.outlets[0]!.cameras).toEqual([
      { platform: 'city-video', id: '34020000001320000301' },
      { platform: 'city-video', id: '34020000001320000302' },
    ]);
    expect('cameras' in r.registry.enterprises[0]!.outlets[0]!).toBe(false);
  });

  test('cameras: a camera listed twice on one platform, a bad id and a missing platform are reported', () => {
    const data = raw();
    at(data, 'enterprises', 0, 'outlets', 0).cameras = [
      { platform: 'city-video', id: '34020000001320000301' }, // also on ent-0003's outlet
      { platform: 'other-video', id: '34020000001320000301' }, // another platform: fine
      { platform: 'city-video', id: 'cam 1' },
      { id: 'cam-2' },
    ];
    const issues = issuesOf(data).map((i) => [i.path, i.code]);
    expect(issues).toEqual([
      ['enterprises[0].outlets[0].cameras[2].id', 'format'],
      ['enterprises[0].outlets[0].cameras[3].platform', 'required'],
      ['enterprises[2].outlets[0].cameras[0].id', 'duplicate'],
    ]);
    const dup = issuesOf(data).find((i) => i.code === 'duplicate')!;
    expect(dup.message).toMatch(/camera/);
    expect(dup.messageZh).toMatch(/摄像机/);
  });

  test('every problem of facilities and productionMeters is reported with its path', () => {
    const data = raw();
    const incinerator = at(data, 'enterprises', 4);
    at(incinerator, 'meters', 1).facilities = [
      { outlet: 'out-0005-g1', code: 'SB1' },
      { outlet: 'out-0005-g1', code: 'SB1' }, // listed twice
      { outlet: 'out-0001-g1', code: 'SB3' }, // another enterprise's outlet
      { outlet: 'out-0005-g1', code: 'sb4' }, // not an SBn code
      { outlet: 'out-0005-g1', code: 'SB5', rs: 0 }, // unknown field
      { code: 'SB6' }, // outlet missing
      'SB7', // not an object
    ];
    at(incinerator, 'meters', 0).facilities = [{ outlet: 'out-0005-g1', code: 'SB9' }]; // production meter
    at(incinerator, 'outlets', 0).productionMeters = [
      'mtr-0005-p1',
      'mtr-0005-t1', // a treatment meter
      'mtr-0001-p1', // another enterprise's meter
      'mtr-0005-p1', // listed twice
      7, // not an id
    ];
    at(data, 'enterprises', 1, 'outlets', 0).productionMeters = 'mtr-0002-p1'; // not a list
    const issues = issuesOf(data);
    expect(issues.map((i) => [i.path, i.code])).toEqual([
      ['enterprises[1].outlets[0].productionMeters', 'type'],
      ['enterprises[4].outlets[0].productionMeters[1]', 'reference'],
      ['enterprises[4].outlets[0].productionMeters[2]', 'reference'],
      ['enterprises[4].outlets[0].productionMeters[3]', 'duplicate'],
      ['enterprises[4].outlets[0].productionMeters[4]', 'type'],
      ['enterprises[4].meters[0].facilities', 'consistency'],
      ['enterprises[4].meters[1].facilities[1]', 'duplicate'],
      ['enterprises[4].meters[1].facilities[2].outlet', 'reference'],
      ['enterprises[4].meters[1].facilities[3].code', 'format'],
      ['enterprises[4].meters[1].facilities[4].rs', 'unknown-field'],
      ['enterprises[4].meters[1].facilities[5].outlet', 'required'],
      ['enterprises[4].meters[1].facilities[6]', 'type'],
    ]);
    for (const i of issues) expect(i.messageZh).toMatch(/[\u4e00-\u9fff]/);
  });
});

describe('the schema and the cross-field check together', () => {
  test('empty text is reported as empty, null as absent, and a Chinese message names the format in Chinese', () => {
    const data = minimal();
    const e = data.enterprises[0]!;
    e.industry = '   ';
    e.address = null;
    e.industryCode = 'x';
    data.city = null;
    const issues = issuesOf(data);
    expect(issues.map((i) => [i.path, i.code, i.message])).toEqual([
      ['enterprises[0].industry', 'required', 'must not be empty'],
      ['enterprises[0].industryCode', 'format', 'must be a GB/T 4754 code such as "4411", got "x"'],
    ]);
    expect(issues[1]!.messageZh).toBe('格式不正确（应为 GB/T 4754 行业代码，如 "4411"），实际为 "x"');
  });

  test('an outlet process must be a key (the peers check groups by it)', () => {
    const data = minimal();
    data.enterprises[0]!.outlets = [
      { id: 'o1', kind: 'gas', name: { zh: '排口' }, process: 'Coal Boiler', devices: [], limits: [] },
    ];
    const issues = issuesOf(data);
    expect(issues.map((i) => [i.path, i.code, i.message])).toEqual([
      [
        'enterprises[0].outlets[0].process',
        'format',
        'must be a process key such as "coal-boiler", got "Coal Boiler"',
      ],
    ]);
    expect(issues[0]!.messageZh).toBe('格式不正确（应为 工艺标识，如 "coal-boiler"），实际为 "Coal Boiler"');
  });

  describe('positions (WGS-84) and the city bounds', () => {
    const bounds = { south: 30.1, west: 120, north: 30.5, east: 120.5 };
    const located = (site: unknown, outlet: unknown) => {
      const data = minimal();
      data.enterprises[0]!.location = site;
      data.enterprises[0]!.outlets = [
        { id: 'o1', kind: 'gas', name: { zh: '排口' }, location: outlet, devices: [], limits: [] },
      ];
      return data;
    };

    test('a position inside the bounds is kept, on the enterprise and the outlet', () => {
      const r = validateRegistry(located({ lat: 30.2741, lon: 120.1552 }, { lat: 30.1, lon: 120.5 }), {
        cityBounds: bounds,
      });
      if (!r.ok) throw new Error(formatRegistryIssues(r.issues));
      expect(r.registry.enterprises[0]!.location).toEqual({ lat: 30.2741, lon: 120.1552 });
      // The bounds' edges are inside.
      expect(r.registry.enterprises[0]!.outlets[0]!.location).toEqual({ lat: 30.1, lon: 120.5 });
    });

    test('a position outside the city is a field-named, bilingual issue; without bounds only the range counts', () => {
      const data = located({ lat: 31.2304, lon: 121.4737 }, { lat: 30.3, lon: 119.99 });
      const r = validateRegistry(data, { cityBounds: bounds });
      if (r.ok) throw new Error('expected the registry to be invalid');
      expect(r.issues.map((i) => [i.path, i.code, i.message, i.messageZh])).toEqual([
        [
          'enterprises[0].location',
          'outside-city',
          'position 31.2304, 121.4737 lies outside the city (30.1–30.5°N, 120–120.5°E)',
          '位置 31.2304, 121.4737 不在本市范围内（30.1–30.5°N, 120–120.5°E）',
        ],
        [
          'enterprises[0].outlets[0].location',
          'outside-city',
          'position 30.3, 119.99 lies outside the city (30.1–30.5°N, 120–120.5°E)',
          '位置 30.3, 119.99 不在本市范围内（30.1–30.5°N, 120–120.5°E）',
        ],
      ]);
      expect(validateRegistry(data).ok).toBe(true);
    });

    test('a latitude out of range, a missing longitude and an unknown key are each named', () => {
      const issues = issuesOf(located({ lat: 91, lon: 120.2 }, { lat: 30.2, latitude: 30.2 }));
      expect(issues.map((i) => [i.path, i.code])).toEqual([
        ['enterprises[0].location.lat', 'range'],
        ['enterprises[0].outlets[0].location.latitude', 'unknown-field'],
        ['enterprises[0].outlets[0].location.lon', 'required'],
      ]);
    });
  });

  test('a value refused by the schema is not checked again across fields', () => {
    const data = minimal();
    data.enterprises.push({ ...data.enterprises[0]!, id: 'ENT 1', creditCode: 42 });
    // The second enterprise's id and credit code are refused; neither is reported as a duplicate.
    expect(issuesOf(data).map((i) => [i.path, i.code])).toEqual([
      ['enterprises[1].id', 'format'],
      ['enterprises[1].creditCode', 'type'],
    ]);
  });

  test('issues follow the file: an issue of a value comes before the issues inside it', () => {
    const data = minimal();
    data.enterprises[0]!.contacts = [{ name: '张三', role: 'legal', language: 'fr', extra: 1 }];
    expect(issuesOf(data).map((i) => [i.path, i.code])).toEqual([
      ['enterprises[0].contacts[0]', 'required'],
      ['enterprises[0].contacts[0].extra', 'unknown-field'],
      ['enterprises[0].contacts[0].language', 'enum'],
    ]);
  });
});

describe('the permitted annual load (limits[].annualLoadKg)', () => {
  it('is kept on the limit it is given on', () => {
    const data = raw();
    at(data, 'enterprises', 0, 'outlets', 0, 'limits', 0).annualLoadKg = 12000;
    const r = validateRegistry(data);
    if (!r.ok) throw new Error(formatRegistryIssues(r.issues));
    const limits = r.registry.enterprises[0]!.outlets[0]!.limits;
    expect(limits[0]!.annualLoadKg).toBe(12000);
    expect(limits[1]!.annualLoadKg).toBeUndefined();
  });

  it('is refused by field when not positive, on a pH limit, or given twice for one factor', () => {
    const data = raw();
    at(data, 'enterprises', 0, 'outlets', 0, 'limits', 1).annualLoadKg = 0;
    at(data, 'enterprises', 3, 'outlets', 0, 'limits', 3).annualLoadKg = 5; // pH
    at(data, 'enterprises', 4, 'outlets', 0, 'limits', 0).annualLoadKg = 100; // a34013 hourly
    at(data, 'enterprises', 4, 'outlets', 0, 'limits', 1).annualLoadKg = 100; // a34013 daily: a second
    const issues = issuesOf(data);
    expect(issues.map((i) => [i.path, i.code])).toEqual([
      ['enterprises[0].outlets[0].limits[1].annualLoadKg', expect.any(String)],
      ['enterprises[3].outlets[0].limits[3].annualLoadKg', 'consistency'],
      ['enterprises[4].outlets[0].limits[1].annualLoadKg', 'duplicate'],
    ]);
    for (const i of issues) expect(i.messageZh).toMatch(/[\u4e00-\u9fff]/);
  });
});
