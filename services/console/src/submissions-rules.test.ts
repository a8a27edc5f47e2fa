import {
  checkCalendar,
  defaultSubmissionCalendar,
  periodsToRemind,
  submissionPeriod,
  submissionStatus,
} from './submissions-rules.js';

describe('submission calendar (Asia/Shanghai)', () => {
  it('a monthly submission is due on the 25th of its own month, late from the next Shanghai midnight', () => {
    const p = submissionPeriod('monthly', '2026-03');
    expect(p.dueOn).toBe('2026-03-25');
    expect(p.lateFrom.toISOString()).toBe('2026-03-25T16:00:00.000Z');
    expect(p.remindAt.toISOString()).toBe('2026-03-20T01:00:00.000Z');
    expect(p.from.toISOString()).toBe('2026-02-28T16:00:00.000Z');
    expect(p.to.toISOString()).toBe('2026-03-31T16:00:00.000Z');
  });

  it('the summary is due on the configured day and covers the configured first day to the due month', () => {
    const p = submissionPeriod('summary', '2026');
    expect(p.dueOn).toBe('2026-10-05');
    expect(p.from.toISOString()).toBe('2026-02-28T16:00:00.000Z');
    expect(p.to.toISOString()).toBe('2026-09-30T16:00:00.000Z');
    const q = submissionPeriod('summary', '2026', {
      summaryDue: '11-10',
      summaryFrom: '01-01',
      remindDaysBefore: 2,
    });
    expect(q.dueOn).toBe('2026-11-10');
    expect(q.remindAt.toISOString()).toBe('2026-11-08T01:00:00.000Z');
  });

  it('status: submitted before the boundary, late at it, missing past due with nothing, pending before', () => {
    const p = submissionPeriod('monthly', '2026-03');
    const justBefore = new Date('2026-03-25T15:59:59.999Z');
    const boundary = new Date('2026-03-25T16:00:00.000Z');
    expect(submissionStatus(p, justBefore, boundary)).toBe('submitted');
    expect(submissionStatus(p, boundary, boundary)).toBe('late');
    expect(submissionStatus(p, null, justBefore)).toBe('pending');
    expect(submissionStatus(p, null, boundary)).toBe('missing');
  });

  it('reminds from 09:00 N days before the due day until the end of the due day', () => {
    expect(periodsToRemind(new Date('2026-03-20T00:59:59Z'))).toEqual([]);
    expect(periodsToRemind(new Date('2026-03-20T01:00:00Z')).map((p) => p.period)).toEqual(['2026-03']);
    expect(periodsToRemind(new Date('2026-03-25T15:59:59Z')).map((p) => p.period)).toEqual(['2026-03']);
    expect(periodsToRemind(new Date('2026-03-25T16:00:00Z'))).toEqual([]);
    expect(periodsToRemind(new Date('2026-10-01T02:00:00Z')).map((p) => `${p.kind}:${p.period}`)).toEqual([
      'summary:2026',
    ]);
    expect(periodsToRemind(new Date('2026-10-21T02:00:00Z')).map((p) => `${p.kind}:${p.period}`)).toEqual([
      'monthly:2026-10',
    ]);
  });

  it('refuses a calendar that cannot work, naming the setting', () => {
    expect(checkCalendar(defaultSubmissionCalendar)).toBe(defaultSubmissionCalendar);
    expect(() => checkCalendar({ ...defaultSubmissionCalendar, summaryDue: '13-01' })).toThrow(/summaryDue/);
    expect(() => checkCalendar({ ...defaultSubmissionCalendar, summaryFrom: '10-02' })).toThrow(
      /summaryFrom/,
    );
    expect(() => checkCalendar({ ...defaultSubmissionCalendar, remindDaysBefore: -1 })).toThrow(
      /remindDaysBefore/,
    );
  });
});
