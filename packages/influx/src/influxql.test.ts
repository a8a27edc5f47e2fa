import {
  browseQuery,
  flaggedCountQuery,
  hourAggregatesQuery,
  deviceMinutesQuery,
  hourLoadInputQueries,
  ident,
  influxql,
  meterHourlyPowerQuery,
  minuteDataPresenceQueries,
} from './influxql.js';

describe('InfluxQL building', () => {
  it('quotes identifiers, escaping backslash and double quote', () => {
    expect(ident('aggregate')).toBe('"aggregate"');
    expect(ident('we"ird\\name')).toBe('"we\\"ird\\\\name"');
    expect(() => ident('')).toThrow(/identifier/);
    expect(() => ident('a\nb')).toThrow(/identifier/);
  });

  it('refuses a placeholder without a value, a bad name and a non-finite number', () => {
    expect(influxql('SELECT * FROM "m" WHERE e = $e', { e: 'x' }).params).toEqual({ e: 'x' });
    expect(() => influxql('SELECT * FROM "m" WHERE e = $e')).toThrow(/\$e has no value/);
    expect(() => influxql('SELECT 1', { 'a-b': 1 })).toThrow(/parameter name/);
    expect(() => influxql('SELECT 1', { n: Number.NaN })).toThrow(/finite/);
    expect(() => influxql('SELECT 1', { d: new Date(Number.NaN) })).toThrow(/invalid date/);
  });

  it('asks for the minute data of enterprises per device: minutes holding data and the non-N flags', () => {
    const from = new Date('2026-02-28T16:00:00Z');
    const to = new Date('2026-03-31T16:00:00Z');
    const q = minuteDataPresenceQueries('emission', 'ent-1', from, to);
    expect(q.present.statement).toBe(
      'SELECT count("Avg") AS "n" FROM "emission" WHERE ("enterprise" = $e0) AND "interval" =~ /^minute/ AND time >= $from AND time < $to GROUP BY time(1m), "enterprise", "device" fill(none)',
    );
    expect(q.flagged.statement).toMatch(
      /SELECT "flag" FROM "emission" .* AND "flag" != \$normal GROUP BY "enterprise", "device"$/,
    );
    expect(q.flagged.params).toEqual({ e0: 'ent-1', from, to, normal: 'N' });
    // Several at once, each a bound value (an id is never spliced into the statement).
    const many = minuteDataPresenceQueries('emission', ['ent-1', "ent-2' OR 1=1"], from, to);
    expect(many.present.statement).toContain('WHERE ("enterprise" = $e0 OR "enterprise" = $e1) AND');
    expect(many.present.params).toEqual({ e0: 'ent-1', e1: "ent-2' OR 1=1", from, to });
    expect(() => minuteDataPresenceQueries('emission', [], from, to)).toThrow(/no enterprise/);
  });
});

describe('the data browser queries', () => {
  const from = new Date('2026-03-01T00:00:00Z');
  const to = new Date('2026-03-02T00:00:00Z');
  it('binds every value, reads minute data of any period and averages per aligned bucket', () => {
    const raw = browseQuery(
      'emission',
      { enterpriseId: "e'1", sites: ['s1'], interval: 'minute', device: 'MN' },
      from,
      to,
    );
    expect(raw.statement).toBe(
      'SELECT *::field FROM "emission" WHERE "enterprise" = $enterprise AND ("site" = $site0) AND "device" = $device' +
        ' AND ("interval" = $interval OR "interval" =~ /^minute-[0-9]+s$/) AND time >= $from AND time < $to' +
        ' GROUP BY "site", "factor", "device", "interval"',
    );
    expect(raw.params).toMatchObject({ enterprise: "e'1", site0: 's1', device: 'MN', interval: 'minute' });
    const mean = browseQuery('energy', { enterpriseId: 'e', sites: ['a', 'b'] }, from, to, {
      seconds: 86400,
      offsetSeconds: 57600,
    });
    expect(mean.statement).toContain('SELECT mean(*) FROM "energy"');
    expect(mean.statement).toContain('("site" = $site0 OR "site" = $site1)');
    expect(mean.statement).toContain('GROUP BY time(86400s, 57600s), "site"');
    const flagged = flaggedCountQuery('emission', { enterpriseId: 'e', sites: ['a'] }, from, to, {
      seconds: 3600,
      offsetSeconds: 0,
    });
    expect(flagged.statement).toContain('AND "flag" != $normal GROUP BY time(3600s, 0s)');
    expect(flagged.params.normal).toBe('N');
  });

  it('refuses a bucket that is not a whole positive number of seconds or an offset outside it', () => {
    const q = (seconds: number, offsetSeconds: number) =>
      browseQuery('emission', { enterpriseId: 'e', sites: ['a'] }, from, to, { seconds, offsetSeconds });
    expect(() => q(0, 0)).toThrow(/invalid bucket/);
    expect(() => q(1.5, 0)).toThrow(/invalid bucket/);
    expect(() => q(3600, 3600)).toThrow(/invalid bucket offset/);
    expect(() => browseQuery('emission', { enterpriseId: 'e', sites: [] }, from, to)).toThrow(/no site/);
  });
});

describe('the hourly load inputs of one outlet', () => {
  const from = new Date('2025-12-31T16:00:00Z');
  const to = new Date('2026-02-28T16:00:00Z');
  it('reads only the columns the loads use, of the named factors, every value bound', () => {
    const q = hourLoadInputQueries(
      { aggregate: 'aggregate', emission: 'emission' },
      { enterpriseId: 'ent-1', site: 'out-1', factors: ['w01018', 'w00000'] },
      from,
      to,
    );
    expect(q.aggregates.statement).toBe(
      'SELECT "value", "valid" FROM "aggregate" WHERE "enterprise" = $enterprise AND ("site" = $site0)' +
        ' AND "interval" = $interval AND time >= $from AND time < $to AND ("factor" = $factor0 OR "factor" = $factor1)' +
        ' GROUP BY "site", "factor", "device", "interval"',
    );
    expect(q.hourly.statement).toMatch(/^SELECT "Cou", "flag", "unit" FROM "emission" WHERE /);
    expect(q.hourly.params).toEqual({
      enterprise: 'ent-1',
      site0: 'out-1',
      interval: 'hour',
      factor0: 'w01018',
      factor1: 'w00000',
      from,
      to,
    });
    expect(() =>
      hourLoadInputQueries(
        { aggregate: 'a', emission: 'e' },
        { enterpriseId: 'e', site: 's', factors: [] },
        from,
        to,
      ),
    ).toThrow(/no factor/);
  });
  it("asks for meters' hourly mean power, one series per meter, every value bound", () => {
    const from = new Date('2026-11-01T00:00:00Z');
    const to = new Date('2026-11-02T00:00:00Z');
    const q = meterHourlyPowerQuery('ent-1', ['m-1', "m'2"], from, to);
    expect(q.statement).toMatch(
      /^SELECT mean\("Rtd"\) AS "kw" FROM "energy" WHERE .*"factor" = \$\w+.* GROUP BY time\(1h\), "site" fill\(none\)$/,
    );
    expect(q.statement).not.toContain("m'2");
    expect(Object.values(q.params)).toEqual(
      expect.arrayContaining(['ent-1', 'm-1', "m'2", 'power_kw', from, to]),
    );
  });
  it("asks for outlets' hourly aggregates with their converted value and flag, one series per site and factor", () => {
    const from = new Date('2026-10-30T16:00:00Z');
    const to = new Date('2026-11-29T16:00:00Z');
    const q = hourAggregatesQuery('ent-1', ['out-1', 'out"2'], from, to);
    expect(q.statement).toBe(
      'SELECT "value", "converted", "valid", "flag" FROM "aggregate" WHERE "enterprise" = $enterprise AND ("site" = $site0' +
        ' OR "site" = $site1) AND "interval" = $interval AND time >= $from AND time < $to GROUP BY "site", "factor"',
    );
    expect(q.params).toEqual({
      enterprise: 'ent-1',
      site0: 'out-1',
      site1: 'out"2',
      interval: 'hour',
      from,
      to,
    });
    expect(() => hourAggregatesQuery('ent-1', [], from, to)).toThrow(/no site/);
  });
  it("asks for one outlet's minute Avg and flag per device and factor, minute-<n>s series included", () => {
    const from = new Date('2026-11-27T16:00:00Z');
    const to = new Date('2026-11-28T16:00:00Z');
    const q = deviceMinutesQuery('emission', 'ent-1', 'out"1', from, to);
    expect(q.statement).toBe(
      'SELECT "Avg", "flag" FROM "emission" WHERE "enterprise" = $enterprise AND ("site" = $site0) AND ' +
        '("interval" = $interval OR "interval" =~ /^minute-[0-9]+s$/) AND time >= $from AND time < $to GROUP BY "device", "factor"',
    );
    expect(q.params).toEqual({ enterprise: 'ent-1', site0: 'out"1', interval: 'minute', from, to });
  });
});
