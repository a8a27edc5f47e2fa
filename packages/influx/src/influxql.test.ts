import { ident, influxql } from './influxql.js';

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
});
