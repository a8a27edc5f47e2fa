import { CommandTracker, type AttemptResult } from './commands.js';

function tracker(timeoutMs = 60_000) {
  const results: AttemptResult[] = [];
  return { t: new CommandTracker({ timeoutMs, onResult: (r) => results.push(r) }), results };
}

describe('CommandTracker', () => {
  it('ends a command with the 9012 after a ready 9011, matched by QN; one at a time per MN', () => {
    const { t, results } = tracker();
    t.start('M', 'Q1', '1012', 'conn');
    expect(t.busy('M')).toBe(true);
    expect(() => t.start('M', 'Q2', '1012', 'conn')).toThrow();
    expect(t.reply('M', { cn: '9011', qn: 'other', params: { QnRtn: '1' } })).toBe(false);
    expect(t.reply('M', { cn: '9011', qn: 'Q1', params: { QnRtn: '1' } })).toBe(true);
    expect(results).toEqual([]);
    expect(t.reply('M', { cn: '9012', qn: 'Q1', params: { ExeRtn: '1' } })).toBe(true);
    expect(results).toMatchObject([
      { mn: 'M', qn: 'Q1', cn: '1012', outcome: 'done', qnRtn: '1', exeRtn: '1' },
    ]);
    expect(t.busy('M')).toBe(false);
  });

  it('refused on a 9011 other than 1, failed on a 9012 other than 1', () => {
    const { t, results } = tracker();
    t.start('A', 'Q', '1012', 'c');
    t.reply('A', { cn: '9011', qn: 'Q', params: { QnRtn: '2' } });
    t.start('B', 'Q', '1012', 'c');
    t.reply('B', { cn: '9012', qn: 'Q', params: { ExeRtn: '4' } });
    expect(results.map((r) => [r.mn, r.outcome])).toEqual([
      ['A', 'refused'],
      ['B', 'failed'],
    ]);
  });

  it('ends a command only for the connection that sent it', () => {
    const { t, results } = tracker();
    t.start('M', 'Q', '1012', 'first');
    t.end('M', 'second', 'disconnected');
    expect(results).toEqual([]);
    t.end('M', 'first', 'disconnected');
    expect(results).toMatchObject([{ outcome: 'disconnected' }]);
  });

  it('times out', async () => {
    const { t, results } = tracker(20);
    t.start('M', 'Q', '1012', 'c');
    await new Promise((r) => setTimeout(r, 60));
    expect(results).toMatchObject([{ outcome: 'timed-out', qnRtn: null }]);
    expect(t.busy('M')).toBe(false);
  });

  it("keeps a read's answer and counts the history that flows back", () => {
    const { t, results } = tracker();
    t.start('R', 'Q', '1011', 'c');
    expect(t.reply('R', { cn: '9011', qn: 'Q', params: { QnRtn: '1' } })).toBe(true);
    expect(t.reply('R', { cn: '1011', qn: 'other', params: { SystemTime: '1' } })).toBe(false);
    expect(t.reply('R', { cn: '1011', qn: 'Q', params: { SystemTime: '20260301120000' } })).toBe(true);
    t.reply('R', { cn: '9012', qn: 'Q', params: { ExeRtn: '1' } });
    expect(results[0]).toMatchObject({
      outcome: 'done',
      reply: { SystemTime: '20260301120000' },
      readings: 0,
    });

    const begin = Date.parse('2026-03-01T00:00:00Z');
    t.start('H', 'Q2', '2051', 'c', { begin, end: begin + 3_600_000 });
    t.reply('H', { cn: '9011', qn: 'Q2', params: { QnRtn: '1' } });
    for (let i = 0; i < 4; i++) {
      // Data under the request's QN, or under the logger's own QN with a DataTime in the period.
      const own = i % 2 === 0;
      expect(
        t.reply('H', {
          cn: '2051',
          qn: own ? `own-${i}` : 'Q2',
          params: {},
          dataTimeUtc: new Date(begin + i * 600_000).toISOString(),
        }),
      ).toBe(true);
    }
    expect(t.reply('H', { cn: '2051', qn: 'x', params: {}, dataTimeUtc: '2026-03-02T00:00:00Z' })).toBe(
      false,
    );
    expect(t.busy('H')).toBe(true);
    t.reply('H', { cn: '9012', qn: 'Q2', params: { ExeRtn: '1' } });
    expect(results[1]).toMatchObject({ outcome: 'done', readings: 4 });
  });
});
