// A video alarm's case in the console: the case page shows the platform's snapshot (Chromium: the image decoded and
// drawn), with the alarm time on the Beijing clock, the camera and the SHA-256, in Chinese and in English, without
// serious axe findings. The image is served under the case's scope: the city and the district officer of ent-0003's
// district get the bytes; an officer of another district, the enterprise (a suspected case is never shown to it)
// and a case whose evidence names another enterprise's alarm get 404, the same answer as a case that does not exist.
import { createHash, randomBytes } from 'node:crypto';
import { deflateSync, crc32 } from 'node:zlib';
import type { DeviationV1, VideoAlarmV1 } from '@offsite/contracts';
import { videoAlarmDeviation } from '@offsite/domain';
import { until } from '@offsite/testing';
import type pg from 'pg';
import { describeViolations, seriousViolations } from './axe.js';
import { loginPage, pageSuite } from './chromium.js';
import { insertAlertCase, loginAs, rawRequest, type World } from './fixture.js';

/** A 24 × 16 PNG, one colour (so Chromium has something to decode and draw). */
function png(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const [w, h] = [24, 16];
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const rows = Buffer.alloc(h * (1 + 3 * w));
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) rows.set([90, 120, 160], y * (1 + 3 * w) + 1 + 3 * x);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const IMAGE = png();
const SHA = createHash('sha256').update(IMAGE).digest('hex');
const OTHER = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(64)]);
const OTHER_SHA = createHash('sha256').update(OTHER).digest('hex');

function alarm(n: number, o: Partial<VideoAlarmV1>): VideoAlarmV1 {
  return {
    schema: 'video-alarm.v1',
    id: `va-${createHash('sha256').update(`city-video\n${n}`).digest('hex')}`,
    platform: 'city-video',
    platformEventId: `evt-${n}`,
    enterpriseId: 'ent-0003',
    outletId: 'out-0003-w1',
    cameraId: '34020000001320000301',
    alarmType: 'discharge-outside-hours',
    alarmTime: '2026-12-07T15:15:07Z',
    receivedAt: '2026-12-07T15:15:09Z',
    ...o,
  };
}

const MINE = alarm(1, { snapshot: { sha256: SHA, contentType: 'image/png', size: IMAGE.length } });
// ent-0001's alarm (another district), and a case of ent-0003 whose evidence names that alarm's snapshot.
const THEIRS = alarm(2, {
  enterpriseId: 'ent-0001',
  outletId: 'out-0001-g1',
  cameraId: '34020000001320000901',
  snapshot: { sha256: OTHER_SHA, contentType: 'image/jpeg', size: OTHER.length },
});

function caseOf(a: VideoAlarmV1, over: Partial<VideoAlarmV1> = {}): DeviationV1 {
  const d = videoAlarmDeviation({ ...a, ...over }, null)!;
  return {
    schema: 'deviation.v1',
    id: d.id,
    rule: 'discharge-outside-hours',
    state: 'opened',
    revision: 1,
    severity: 'high',
    enterpriseId: d.enterpriseId,
    siteId: d.siteId,
    windowStart: a.alarmTime.replace('Z', '.000Z'),
    windowEnd: a.alarmTime.replace('Z', '.000Z'),
    openedAt: a.alarmTime.replace('Z', '.000Z'),
    suspectedFalsification: true,
    inResumptionWindow: false,
    evidence: {
      summary: 'discharge outside permitted hours seen on video',
      values: [],
      params: { ...d.evidence, domainRule: d.rule, domainSeverity: d.severity, subject: d.subject },
    },
    emittedAt: '2026-12-07T15:15:10.000Z',
  };
}

const MINE_CASE = caseOf(MINE);
// The evidence of an ent-0003 case naming ent-0001's alarm and image (as a forged or mixed-up event would).
const CROSSED_CASE = caseOf(alarm(3, {}), { id: THEIRS.id, snapshot: THEIRS.snapshot! });

/** What the video-gateway stores for an accepted alarm (its tables; the console reads them through its views). */
async function storeAlarm(pool: pg.Pool, a: VideoAlarmV1, bytes: Buffer): Promise<void> {
  await pool.query(
    `insert into video_snapshots (sha256, content_type, size, bytes) values ($1, $2, $3, $4)`,
    [a.snapshot!.sha256, a.snapshot!.contentType, bytes.length, bytes],
  );
  await pool.query(
    `insert into video_alarms (id, platform, platform_event_id, body_sha256, enterprise_id, outlet_id, camera_id,
        alarm_type, alarm_time, snapshot_sha256, event, received_at, produced_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, now())`,
    [
      a.id,
      a.platform,
      a.platformEventId,
      '0'.repeat(64),
      a.enterpriseId,
      a.outletId,
      a.cameraId,
      a.alarmType,
      a.alarmTime,
      a.snapshot!.sha256,
      JSON.stringify(a),
      a.receivedAt,
    ],
  );
}

async function seed(w: World): Promise<void> {
  await storeAlarm(w.pool, MINE, IMAGE);
  await storeAlarm(w.pool, THEIRS, OTHER);
  await insertAlertCase(w.pool, MINE_CASE);
  await insertAlertCase(w.pool, CROSSED_CASE);
}

const suite = pageSuite(seed);

async function snapshotAs(username: string | null, caseId: string) {
  const headers = username ? { cookie: (await loginAs(suite.w.base, username)).cookie } : undefined;
  return rawRequest(suite.w.base, {
    method: 'GET',
    path: `/api/deviations/${encodeURIComponent(caseId)}/video-snapshot`,
    ...(headers ? { headers } : {}),
  });
}

it('the case page shows the snapshot with its Beijing time, camera and SHA-256, in both languages', async () => {
  const page = await loginPage(suite.chromium.browser, suite.w.base, 'supervisor');
  await page.goto(`${suite.w.base}/#/case/${MINE_CASE.id}`);
  const box = page.locator('[data-test=video-evidence]');
  await box.waitFor();
  const img = box.locator('[data-test=video-snapshot]');
  await img.waitFor();
  // Decoded and drawn: its natural size is the PNG's (evaluated in the page, so no DOM types here).
  const size =
    '(() => { const i = document.querySelector("[data-test=video-snapshot]");' +
    ' return i && i.complete && i.naturalWidth > 0 ? [i.naturalWidth, i.naturalHeight] : null; })()';
  await until(async () => (await page.evaluate(size)) !== null, 15_000, 'the snapshot decoded');
  expect(await page.evaluate(size)).toEqual([24, 16]);
  expect(await img.getAttribute('alt')).toBe(
    '摄像机 34020000001320000301 于 2026-12-07 23:15:07（北京时间）的抓拍图',
  );
  expect(await box.locator('[data-test=video-time]').textContent()).toBe('2026-12-07 23:15:07');
  expect(await box.locator('[data-test=video-camera]').textContent()).toBe('34020000001320000301');
  expect((await box.locator('[data-test=video-sha256]').textContent())?.trim()).toBe(SHA);
  expect(await box.textContent()).toContain('告警时间（北京时间）');
  expect(await box.textContent()).toContain('登记信息中没有该排口的许可排放时段');
  expect(await page.locator('[data-test=evidence-summary]').textContent()).toContain(
    '视频监控发现排口在非许可时段排放：out-0003-w1（摄像机 city-video/34020000001320000301，2026-12-07 23:15:07，告警 evt-1；有抓拍图）',
  );
  expect(describeViolations('video evidence', await seriousViolations(page))).toBe('');
  await page.click('[data-test=lang]');
  expect(await box.textContent()).toContain('Alarm time (Asia/Shanghai)');
  expect(await box.textContent()).toContain('Snapshot SHA-256');
  expect(await img.getAttribute('alt')).toBe(
    'Snapshot of camera 34020000001320000301 at 2026-12-07 23:15:07 (Asia/Shanghai)',
  );
  await page.click('[data-test=lang]');
  expect(suite.cspMessages).toEqual([]);
  await page.close();
});

it('the image is served under the case scope; everyone else gets the same 404 as a case that does not exist', async () => {
  for (const who of ['supervisor', 'officer-dist-lanxi']) {
    const r = await snapshotAs(who, MINE_CASE.id);
    expect([who, r.statusCode, r.headers['content-type'], r.headers['x-checksum-sha256']]).toEqual([
      who,
      200,
      'image/png',
      SHA,
    ]);
    expect(r.headers['cache-control']).toBe('private, no-store');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  }
  const nobody = await snapshotAs(null, MINE_CASE.id);
  expect(nobody.statusCode).toBe(401);
  const missing = await snapshotAs('supervisor', 'no-such-case');
  expect(missing.statusCode).toBe(404);
  for (const [who, id] of [
    ['officer-dist-landong', MINE_CASE.id],
    ['ent-0003-user', MINE_CASE.id],
    ['supervisor', CROSSED_CASE.id],
    ['officer-dist-lanxi', CROSSED_CASE.id],
  ] as const) {
    const r = await snapshotAs(who, id);
    expect([who, id, r.statusCode, r.body]).toEqual([who, id, missing.statusCode, missing.body]);
  }
});

it('the bytes are exactly the stored image', async () => {
  const r = await fetch(`${suite.w.base}/api/deviations/${MINE_CASE.id}/video-snapshot`, {
    headers: { cookie: (await loginAs(suite.w.base, 'supervisor')).cookie },
  });
  expect(r.status).toBe(200);
  expect(
    createHash('sha256')
      .update(Buffer.from(await r.arrayBuffer()))
      .digest('hex'),
  ).toBe(SHA);
});
