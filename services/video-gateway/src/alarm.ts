// One webhook body checked and turned into a video-alarm.v1 event: the JSON and its schema
// (video-webhook.v1), the snapshot's size and type (by its own bytes, not only the declared type), and
// the camera's outlet from the registry. Pure: no I/O.
import { createHash } from 'node:crypto';
import { validateVideoWebhookV1, type VideoAlarmV1, type VideoWebhookV1 } from '@offsite/contracts';
import { reject, type Rejection } from './rejection.js';

export type SnapshotType = 'image/jpeg' | 'image/png';

export interface Snapshot {
  bytes: Buffer;
  sha256: string;
  contentType: SnapshotType;
}

export interface CheckedAlarm {
  alarm: VideoWebhookV1;
  snapshot: Snapshot | undefined;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** What a PNG and a JPEG file begin with. */
const MAGIC: Record<SnapshotType, Buffer> = {
  'image/png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  'image/jpeg': Buffer.from([0xff, 0xd8, 0xff]),
};

/** The type the bytes' own signature says, if they are a PNG or a JPEG. */
export function sniffImage(bytes: Uint8Array): SnapshotType | undefined {
  for (const [type, magic] of Object.entries(MAGIC) as [SnapshotType, Buffer][])
    if (
      bytes.length > magic.length &&
      Buffer.from(bytes.buffer, bytes.byteOffset, magic.length).equals(magic)
    )
      return type;
  return undefined;
}

/** A JSON pointer from the validator (`/snapshot/contentType`) as a field name (`snapshot.contentType`). */
const fieldOf = (pointer: string) => pointer.replace(/^\//, '').replace(/\//g, '.') || '(body)';

/** The first schema error as a rejection naming its field, in English and Chinese. */
function schemaRejection(line: string): Rejection {
  const m = /^(\/[^:]*|\(root\)|): (.*)$/.exec(line);
  const pointer = m?.[1] === '(root)' ? '' : (m?.[1] ?? '');
  const what = m?.[2] ?? line;
  let field = fieldOf(pointer);
  let zh: string;
  if (/: is required$/.test(line)) zh = `缺少必填字段 ${field}`;
  else if (/has unknown property "([^"]+)"/.test(what)) {
    const prop = /has unknown property "([^"]+)"/.exec(what)![1]!;
    field = pointer ? `${field}.${prop}` : prop;
    zh = `含有未定义的字段 ${field}`;
  } else zh = `字段 ${field} 的取值无效（${what}）`;
  if (field === 'snapshot.contentType')
    return reject(
      415,
      'snapshot-type',
      field,
      `${field}: ${what}; a snapshot is image/jpeg or image/png`,
      '快照类型必须是 image/jpeg 或 image/png',
    );
  return reject(400, 'schema-invalid', field, `${field}: ${what}`, zh);
}

const tooLarge = (size: number, max: number): Rejection =>
  reject(
    413,
    'snapshot-too-large',
    'snapshot.data',
    `the snapshot is ${size} bytes; at most ${max} are accepted`,
    `快照 ${size} 字节，超过上限 ${max} 字节`,
  );

/**
 * The body as an alarm with its decoded snapshot, or the first reason to refuse it. `maxSnapshotBytes`
 * bounds the decoded image (checked before the schema, so an oversized image is a 413, not a pattern error).
 */
export function checkAlarm(
  body: Buffer,
  o: { maxSnapshotBytes: number },
): { ok: true; value: CheckedAlarm } | { ok: false; rejection: Rejection } {
  let data: unknown;
  try {
    data = JSON.parse(body.toString('utf8'));
  } catch (err) {
    return {
      ok: false,
      rejection: reject(
        400,
        'json-invalid',
        '(body)',
        `the body is not JSON: ${(err as Error).message}`,
        '请求体不是合法的 JSON',
      ),
    };
  }
  const snap = (data as { snapshot?: { data?: unknown } } | null)?.snapshot;
  if (snap && typeof snap.data === 'string') {
    // Base64 is 4 characters per 3 bytes (less up to 2 of padding): refuse before decoding.
    const decoded = Math.floor((snap.data.length * 3) / 4);
    if (decoded > o.maxSnapshotBytes + 2)
      return { ok: false, rejection: tooLarge(decoded, o.maxSnapshotBytes) };
  }
  const v = validateVideoWebhookV1(data);
  if (!v.ok) return { ok: false, rejection: schemaRejection(v.errors[0] ?? '(root): invalid') };
  const alarm = v.value;
  if (Number.isNaN(Date.parse(alarm.alarmTime)) || !/(Z|[+-]\d{2}:\d{2})$/i.test(alarm.alarmTime))
    return {
      ok: false,
      rejection: reject(
        400,
        'schema-invalid',
        'alarmTime',
        'alarmTime must be an RFC 3339 time with an offset, e.g. 2026-12-07T22:15:00+08:00',
        'alarmTime 必须是带时区的 RFC 3339 时间，如 2026-12-07T22:15:00+08:00',
      ),
    };
  let snapshot: Snapshot | undefined;
  if (alarm.snapshot) {
    const bytes = Buffer.from(alarm.snapshot.data, 'base64');
    if (bytes.length > o.maxSnapshotBytes)
      return { ok: false, rejection: tooLarge(bytes.length, o.maxSnapshotBytes) };
    const actual = sniffImage(bytes);
    if (actual !== alarm.snapshot.contentType)
      return {
        ok: false,
        rejection: reject(
          415,
          'snapshot-type',
          'snapshot.data',
          `the snapshot's bytes are ${actual ?? 'neither a JPEG nor a PNG'}, not ${alarm.snapshot.contentType}`,
          `快照内容${actual ? `是 ${actual}` : '既不是 JPEG 也不是 PNG'}，与声明的 ${alarm.snapshot.contentType} 不符`,
        ),
      };
    snapshot = { bytes, sha256: sha256(bytes), contentType: actual };
  }
  return { ok: true, value: { alarm, snapshot } };
}

/** `va-` and the SHA-256 of platform and event id: the same alarm redelivered has the same id. */
export function videoAlarmId(platform: string, eventId: string): string {
  return `va-${createHash('sha256').update(platform).update('\0').update(eventId).digest('hex')}`;
}

/** A UTC instant without sub-second zeros: `2026-12-07T14:15:00Z`. */
const utc = (t: string | Date) => new Date(t).toISOString().replace(/\.000Z$/, 'Z');

export interface CameraEntry {
  enterpriseId: string;
  outletId: string;
}

export function alarmEvent(
  platform: string,
  c: CheckedAlarm,
  camera: CameraEntry,
  receivedAt: Date,
): VideoAlarmV1 {
  const a = c.alarm;
  return {
    schema: 'video-alarm.v1',
    id: videoAlarmId(platform, a.eventId),
    platform,
    platformEventId: a.eventId,
    enterpriseId: camera.enterpriseId,
    outletId: camera.outletId,
    cameraId: a.cameraId,
    alarmType: a.alarmType,
    alarmTime: utc(a.alarmTime),
    receivedAt: utc(receivedAt),
    ...(a.description !== undefined ? { description: a.description } : {}),
    ...(c.snapshot
      ? {
          snapshot: {
            sha256: c.snapshot.sha256,
            contentType: c.snapshot.contentType,
            size: c.snapshot.bytes.length,
          },
        }
      : {}),
  };
}

export const unknownCamera = (platform: string, cameraId: string): Rejection =>
  reject(
    422,
    'unknown-camera',
    'cameraId',
    `camera "${cameraId}" of platform "${platform}" is not in the registry (outlets[].cameras[])`,
    `登记信息中没有平台 "${platform}" 的摄像机 "${cameraId}"（outlets[].cameras[]）`,
  );
