import type { VideoAlarmV1 } from '@offsite/contracts';
import { videoAlarmDeviation, videoAlarmDeviationId, videoAlarmText } from './video-alarm.js';

const SHA = 'ab'.repeat(32);
const alarm = (o: Partial<VideoAlarmV1> = {}): VideoAlarmV1 => ({
  schema: 'video-alarm.v1',
  id: `va-${'1'.repeat(64)}`,
  platform: 'city-video',
  platformEventId: 'evt-1',
  enterpriseId: 'ent-0003',
  outletId: 'out-0003-w1',
  cameraId: '34020000001320000301',
  alarmType: 'discharge-outside-hours',
  alarmTime: '2026-12-07T15:15:07Z',
  receivedAt: '2026-12-07T15:15:09Z',
  snapshot: { sha256: SHA, contentType: 'image/jpeg', size: 2004 },
  ...o,
});

test('a discharge-outside-hours alarm opens a deviation whose evidence names camera, platform, alarm, time and snapshot', () => {
  const d = videoAlarmDeviation(alarm(), null)!;
  expect(d).toMatchObject({
    id: videoAlarmDeviationId(alarm()),
    rule: 'discharge-outside-hours',
    state: 'opened',
    revision: 1,
    severity: 'major',
    enterpriseId: 'ent-0003',
    siteId: 'out-0003-w1',
    subject: alarm().id,
    windowStart: Date.parse('2026-12-07T15:15:07Z'),
    suspectedFalsification: true,
  });
  expect(d.evidence).toMatchObject({
    alarmId: alarm().id,
    platform: 'city-video',
    platformEventId: 'evt-1',
    cameraId: '34020000001320000301',
    alarmTime: '2026-12-07T15:15:07Z',
    alarmTimeText: '2026-12-07 23:15:07',
    hoursCheck: 'no-registry-schedule',
    snapshot: { sha256: SHA, contentType: 'image/jpeg', size: 2004 },
  });
  expect(videoAlarmText(d.evidence)).toBe(
    `camera city-video/34020000001320000301 at 2026-12-07 23:15:07 Asia/Shanghai, alarm evt-1; snapshot sha256 ${SHA}`,
  );
});

test('the same alarm is the same deviation; another alarm at the same time is another one', () => {
  expect(videoAlarmDeviationId(alarm())).toBe(
    videoAlarmDeviationId(alarm({ receivedAt: '2026-12-07T16:00:00Z' })),
  );
  expect(videoAlarmDeviationId(alarm())).not.toBe(
    videoAlarmDeviationId(alarm({ id: `va-${'2'.repeat(64)}` })),
  );
  expect(videoAlarmDeviationId(alarm())).toMatch(/^[0-9a-f]{32}$/);
});

test('a redelivered alarm (its deviation in the log) and other alarm kinds open nothing', () => {
  expect(videoAlarmDeviation(alarm(), { revision: 1 })).toBeNull();
  for (const t of ['visible-smoke', 'treatment-idle', 'camera-tampered', 'other'] as const)
    expect(videoAlarmDeviation(alarm({ alarmType: t }), null)).toBeNull();
});

test('an alarm without a snapshot says so', () => {
  const { snapshot: _omit, ...bare } = alarm();
  const d = videoAlarmDeviation(bare, null)!;
  expect(d.evidence.snapshot).toBeNull();
  expect(videoAlarmText(d.evidence)).toMatch(/no snapshot$/);
});
