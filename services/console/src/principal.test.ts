import { csrfMatches } from './auth.js';
import { canReview, scopeSql, type Principal } from './principal.js';

const p = (role: Principal['role'], extra: Partial<Principal> = {}): Principal => ({
  userId: '1',
  username: 'u',
  displayName: 'u',
  role,
  districtId: null,
  enterpriseId: null,
  ...extra,
});

describe('scopeSql', () => {
  it('binds the district of an officer as a parameter, never as SQL text', () => {
    const params: unknown[] = ['x'];
    const sql = scopeSql(p('district-officer', { districtId: "d' or '1'='1" }), params, 'e');
    expect(sql).toBe('e.district_id = $2');
    expect(params).toEqual(['x', "d' or '1'='1"]);
  });
  it('limits an enterprise user to its enterprise and hides suspected falsification', () => {
    const params: unknown[] = [];
    expect(scopeSql(p('enterprise', { enterpriseId: 'ent-1' }), params, 'e', 'rc')).toBe(
      'e.id = $1 and not rc.suspected_falsification',
    );
  });
  it('gives city-wide roles every district', () => {
    for (const role of ['admin', 'city-supervisor', 'viewer'] as const)
      expect(scopeSql(p(role), [], 'e')).toBe('true');
  });
  it('lets only reviewers act', () => {
    expect(canReview(p('viewer'))).toBe(false);
    expect(canReview(p('enterprise', { enterpriseId: 'e' }))).toBe(false);
    expect(canReview(p('district-officer', { districtId: 'd' }))).toBe(true);
  });
});

describe('csrfMatches', () => {
  it('accepts only the exact token', () => {
    expect(csrfMatches('abc', 'abc')).toBe(true);
    expect(csrfMatches('abc', 'abd')).toBe(false);
    expect(csrfMatches('abc', 'ab')).toBe(false);
    expect(csrfMatches('abc', undefined)).toBe(false);
    expect(csrfMatches('abc', ['abc'])).toBe(false);
  });
});
