import { compareWithUndisturbed, foldFollows, type DeviationEventLike } from './deviations.js';

const A = '2026-12-07T01:00:00.000Z';
const B = '2026-12-07T03:00:00.000Z';
const C = '2026-12-07T02:00:00.000Z';

/** A deviation event of the site's concentration rule, window from A. */
function ev(
  id: string,
  revision: number,
  state: 'opened' | 'updated' | 'resolved',
  more: { end?: string; retracted?: boolean; follows?: string; severity?: string } = {},
): DeviationEventLike & Record<string, unknown> {
  return {
    id,
    revision,
    state,
    rule: 'concentration',
    enterpriseId: 'e1',
    siteId: 's1',
    factor: 'a21026',
    windowStart: A,
    ...(more.end ? { windowEnd: more.end } : {}),
    severity: more.severity ?? 'major',
    emittedAt: `2026-12-07T0${revision}:00:00.000Z`,
    evidence: {
      summary: 'x',
      values: [],
      params: {
        ...(more.retracted ? { retracted: true } : {}),
        ...(more.follows ? { follows: more.follows } : {}),
      },
    },
  };
}

/** The undisturbed run: X opened at A, resolved at B. */
const undisturbed = [ev('X', 1, 'opened'), ev('X', 2, 'resolved', { end: B })];
const none = () => false;

test('the same events in both runs (emittedAt aside, a replayed duplicate dropped) are exact', () => {
  const again = [...undisturbed, { ...undisturbed[0]!, emittedAt: 'later' }];
  expect(compareWithUndisturbed(undisturbed, again, none)).toEqual({
    exact: [expect.stringContaining('concentration@e1/s1/a21026')],
    corrected: [],
    retractedOnly: [],
    problems: [],
  });
});

test('a resolved deviation retracted by late data and its next generation standing are one corrected episode', () => {
  // Judged before its late readings: resolved at the frontier C, then retracted; the run that went on is X#2.
  const disturbed = [
    ev('X', 1, 'opened'),
    ev('X', 2, 'resolved', { end: C }),
    ev('X2', 1, 'opened', { follows: 'X' }),
    ev('X', 3, 'resolved', { end: C, retracted: true }),
    ev('X2', 2, 'resolved', { end: B, follows: 'X' }),
  ];
  const cmp = compareWithUndisturbed(undisturbed, disturbed, none);
  expect(cmp.problems).toEqual([]);
  expect(cmp.exact).toEqual([]);
  expect(cmp.corrected).toEqual([expect.stringContaining('episode of 2 ids: 1 undisturbed, 2 here')]);
});

test('a deviation lost (its episode retracted, nothing following) is a problem', () => {
  const disturbed = [...undisturbed, ev('X', 3, 'resolved', { end: B, retracted: true })];
  expect(compareWithUndisturbed(undisturbed, disturbed, none).problems).toEqual([
    expect.stringMatching(/: lost \(standing here: none\)$/),
  ]);
});

test('a deviation doubled (the resolved one stands and a following generation stands too) is a problem', () => {
  const disturbed = [...undisturbed, ev('X2', 1, 'opened', { follows: 'X' })];
  expect(compareWithUndisturbed(undisturbed, disturbed, none).problems).toEqual([
    expect.stringContaining(': doubled (standing here: '),
  ]);
});

test('a following generation that ends elsewhere, or never concludes what the undisturbed run did, is a problem', () => {
  const elsewhere = [
    ev('X', 1, 'opened'),
    ev('X', 2, 'resolved', { end: C }),
    ev('X', 3, 'resolved', { end: C, retracted: true }),
    ev('X2', 1, 'opened', { follows: 'X' }),
    ev('X2', 2, 'resolved', { end: B, follows: 'X', severity: 'minor' }),
  ];
  expect(compareWithUndisturbed(undisturbed, elsewhere, none).problems).toEqual([
    expect.stringContaining('revision 2 of concentration@e1/s1/a21026'),
  ]);
  const severity = [
    ev('X', 1, 'opened'),
    ev('X', 2, 'resolved', { end: B }),
    ev('X', 3, 'resolved', { end: B, severity: 'minor' }),
  ];
  expect(compareWithUndisturbed(undisturbed, severity, none).problems).toEqual([
    expect.stringContaining(': a different final state'),
  ]);
});

test('earlier conclusions passed over by a run that judged several hours at once are counted, not problems', () => {
  // Undisturbed: opened, updated hour by hour (end C), resolved at B. Disturbed: the analyzer caught up after a
  // kill and judged C and B in one evaluation — the update to C was never concluded.
  const hourly = [
    ev('X', 1, 'opened'),
    ev('X', 2, 'updated', { end: C }),
    ev('X', 3, 'resolved', { end: B }),
  ];
  const caughtUp = [ev('X', 1, 'opened'), ev('X', 2, 'resolved', { end: B })];
  const cmp = compareWithUndisturbed(hourly, caughtUp, none);
  expect(cmp.problems).toEqual([]);
  expect(cmp.corrected).toEqual([expect.stringContaining('1 earlier undisturbed conclusion(s) passed over')]);
  // The last conclusion is still required: the same run resolved elsewhere is a problem.
  const elsewhere = [ev('X', 1, 'opened'), ev('X', 2, 'resolved', { end: C })];
  expect(compareWithUndisturbed(hourly, elsewhere, none).problems).toEqual([
    expect.stringContaining('revision 3 of concentration@e1/s1/a21026'),
  ]);
});

test('missing episodes and extra ones that stand are problems; extra ones all retracted are listed apart', () => {
  const cmp = compareWithUndisturbed(
    undisturbed,
    [
      ev('Y', 1, 'opened'),
      ev('Z', 1, 'opened'),
      ev('Z', 2, 'resolved', { end: C, retracted: true }),
      ev('Z2', 1, 'resolved', { end: C, follows: 'Z', retracted: true }),
    ],
    none,
  );
  expect(cmp.problems).toEqual([expect.stringMatching(/^missing: /), expect.stringMatching(/^extra: /)]);
  expect(cmp.retractedOnly).toEqual([expect.stringContaining('episode of 2 ids: 0 undisturbed, 2 here')]);
});

test('deviations apart are left out of both runs', () => {
  const offline = (d: DeviationEventLike) => d.id.startsWith('off');
  const cmp = compareWithUndisturbed(undisturbed, [...undisturbed, ev('off1', 1, 'opened')], offline);
  expect(cmp).toEqual({ exact: [expect.any(String)], corrected: [], retractedOnly: [], problems: [] });
});

test('foldFollows joins a chain of generations and a deviation following one in the other run only', () => {
  const folded = foldFollows(
    [ev('X', 1, 'opened'), ev('Q', 1, 'opened')],
    [
      ev('X3', 1, 'opened', { follows: 'X2' }),
      ev('X2', 1, 'opened', { follows: 'X' }),
      ev('Y', 1, 'opened', { follows: 'X3' }),
    ],
  );
  expect([...folded].map(([k, ids]) => [k, [...ids]])).toEqual([
    ['X', ['X', 'X3', 'X2', 'Y']],
    ['Q', ['Q']],
  ]);
});
