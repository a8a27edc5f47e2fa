import { validateTelemetryLateV1 } from '@offsite/contracts';
import { LATE_AFTER_MS, lateEvents, shanghaiDay } from './late.js';

describe('late minute data', () => {
  it('takes the Asia/Shanghai day of the data time (UTC 16:00 starts the next day)', () => {
    expect(shanghaiDay(Date.parse('2026-03-01T15:59:00Z'))).toBe('2026-03-01');
    expect(shanghaiDay(Date.parse('2026-03-01T16:00:00Z'))).toBe('2026-03-02');
  });

  it('reports readings written 30 min or more after their data time, one valid event per device and day', () => {
    const at = new Date('2026-03-02T00:00:00Z');
    const t = (iso: string) => Date.parse(iso);
    const events = lateEvents(
      [
        { enterpriseId: 'e1', deviceId: 'MN1', time: t('2026-03-01T15:59:00Z') },
        { enterpriseId: 'e1', deviceId: 'MN1', time: t('2026-03-01T15:50:00Z') },
        { enterpriseId: 'e1', deviceId: 'MN1', time: t('2026-03-01T16:00:00Z') },
        // Exactly LATE_AFTER_MS old: late; a millisecond less: in time.
        { enterpriseId: 'e1', deviceId: 'MN2', time: at.getTime() - LATE_AFTER_MS },
        { enterpriseId: 'e1', deviceId: 'MN3', time: at.getTime() - LATE_AFTER_MS + 1 },
      ],
      at,
    );
    expect(events.map((e) => [e.deviceId, e.day, e.readings, e.firstDataTime, e.lastDataTime])).toEqual([
      ['MN1', '2026-03-01', 2, '2026-03-01T15:50:00.000Z', '2026-03-01T15:59:00.000Z'],
      ['MN1', '2026-03-02', 1, '2026-03-01T16:00:00.000Z', '2026-03-01T16:00:00.000Z'],
      ['MN2', '2026-03-02', 1, '2026-03-01T23:30:00.000Z', '2026-03-01T23:30:00.000Z'],
    ]);
    for (const e of events) {
      expect(validateTelemetryLateV1(e)).toEqual({ ok: true, value: e });
      expect(e.observedAt).toBe('2026-03-02T00:00:00.000Z');
    }
    expect(new Set(events.map((e) => e.id)).size).toBe(3);
  });
});
