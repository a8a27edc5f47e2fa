import { validateVideoAlarmV1 } from '@offsite/contracts';
import { alarmEvent, checkAlarm, sniffImage, videoAlarmId } from './alarm.js';

const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(60, 7)]);
const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.alloc(60, 1),
]);
const max = { maxSnapshotBytes: 1024 };
const alarm = (extra: Record<string, unknown> = {}) => ({
  eventId: 'evt-1',
  cameraId: '34020000001320000301',
  alarmType: 'discharge-outside-hours',
  alarmTime: '2026-12-07T23:15:00+08:00',
  description: '夜间排口有水流',
  snapshot: { contentType: 'image/jpeg', data: JPEG.toString('base64') },
  ...extra,
});
const body = (o: unknown) => Buffer.from(JSON.stringify(o));

function refusal(b: Buffer) {
  const r = checkAlarm(b, max);
  if (r.ok) throw new Error('expected a refusal');
  expect(r.rejection.messageZh).toMatch(/[\u4e00-\u9fff]/);
  return r.rejection;
}

test('a valid alarm becomes a video-alarm.v1 event in UTC with its snapshot checksum', () => {
  const r = checkAlarm(body(alarm()), max);
  if (!r.ok) throw new Error(r.rejection.message);
  const e = alarmEvent(
    'city-video',
    r.value,
    { enterpriseId: 'ent-0003', outletId: 'out-0003-w1' },
    new Date('2026-12-07T15:15:02.000Z'),
  );
  expect(validateVideoAlarmV1(e)).toEqual({ ok: true, value: e });
  expect(e).toMatchObject({
    id: videoAlarmId('city-video', 'evt-1'),
    alarmTime: '2026-12-07T15:15:00Z',
    receivedAt: '2026-12-07T15:15:02Z',
    outletId: 'out-0003-w1',
    snapshot: { contentType: 'image/jpeg', size: JPEG.length },
  });
  expect(e.snapshot!.sha256).toMatch(/^[0-9a-f]{64}$/);
  expect(r.value.snapshot!.bytes.equals(JPEG)).toBe(true);
});

test('the id depends on platform and event id only', () => {
  expect(videoAlarmId('a', 'e')).toBe(videoAlarmId('a', 'e'));
  expect(videoAlarmId('a', 'e')).not.toBe(videoAlarmId('b', 'e'));
  expect(videoAlarmId('a', 'e1')).not.toBe(videoAlarmId('a1', 'e'));
});

test('the image type comes from the bytes', () => {
  expect(sniffImage(JPEG)).toBe('image/jpeg');
  expect(sniffImage(PNG)).toBe('image/png');
  expect(sniffImage(Buffer.from('GIF89a........'))).toBeUndefined();
});

test.each([
  ['not JSON', Buffer.from('{"eventId":'), 400, 'video.json-invalid', '(body)'],
  ['no camera', body({ ...alarm(), cameraId: undefined }), 400, 'video.schema-invalid', 'cameraId'],
  ['an unknown alarm type', body(alarm({ alarmType: 'fire' })), 400, 'video.schema-invalid', 'alarmType'],
  ['an extra field', body(alarm({ extra: 1 })), 400, 'video.schema-invalid', 'extra'],
  [
    'a time without offset',
    body(alarm({ alarmTime: '2026-12-07T23:15:00' })),
    400,
    'video.schema-invalid',
    'alarmTime',
  ],
  [
    'a GIF declared as GIF',
    body(alarm({ snapshot: { contentType: 'image/gif', data: JPEG.toString('base64') } })),
    415,
    'video.snapshot-type',
    'snapshot.contentType',
  ],
  [
    'a PNG declared as JPEG',
    body(alarm({ snapshot: { contentType: 'image/jpeg', data: PNG.toString('base64') } })),
    415,
    'video.snapshot-type',
    'snapshot.data',
  ],
  [
    'text declared as JPEG',
    body(
      alarm({
        snapshot: { contentType: 'image/jpeg', data: Buffer.from('hello, not an image').toString('base64') },
      }),
    ),
    415,
    'video.snapshot-type',
    'snapshot.data',
  ],
  [
    'a snapshot over the limit',
    body(
      alarm({
        snapshot: {
          contentType: 'image/jpeg',
          data: Buffer.concat([JPEG, Buffer.alloc(2000)]).toString('base64'),
        },
      }),
    ),
    413,
    'video.snapshot-too-large',
    'snapshot.data',
  ],
])('%s is refused with its status, code and field', (_what, b, status, code, field) => {
  expect(refusal(b)).toMatchObject({ status, code, field });
});

test('an alarm without a snapshot is accepted and its event has none', () => {
  const r = checkAlarm(body({ ...alarm(), snapshot: undefined }), max);
  if (!r.ok) throw new Error(r.rejection.message);
  const e = alarmEvent('p', r.value, { enterpriseId: 'e', outletId: 'o' }, new Date());
  expect('snapshot' in e).toBe(false);
  expect(validateVideoAlarmV1(e).ok).toBe(true);
});
