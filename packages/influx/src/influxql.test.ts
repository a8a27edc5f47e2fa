import { ident, influxql, minuteDataPresenceQueries } from './influxql.js';

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

  it('asks for the minute data of one enterprise per device: minutes holding data and the non-N flags', () => {
    const from = new Date('2026-02-28T16:00:00Z');
    const to = new Date('2026-03-31T16:00:00Z');
    const q = minuteDataPresenceQueries('emission', 'ent-1', from, to);
    expect(q.present.statement).toBe(
      'SELECT count("Avg") AS "n" FROM "emission" WHERE "enterprise" = $enterprise AND "interval" =~ /^minute/ AND time >= $from AND time < $to GROUP BY time(1m), "device" fill(none)',
    );
    expect(q.flagged.statement).toMatch(
      /SELECT "flag" FROM "emission" .* AND "flag" != \$normal GROUP BY "device"$/,
    );
    expect(q.flagged.params).toEqual({ enterprise: 'ent-1', from, to, normal: 'N' });
  });
});
