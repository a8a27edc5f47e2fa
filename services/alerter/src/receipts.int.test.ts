// SMS delivery receipts over real HTTP: the providers' documented callback bodies (Aliyun SmsReport
// HTTP push, Tencent Cloud SMS status callback) posted to the alerter's receipt routes change the
// delivery log in Postgres and publish delivered/failed events; refused callbacks get a clear 4xx
// and are kept as files.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { NotificationV1 } from '@offsite/contracts';
import { requireEnv, silentLogger, type TestSchema } from '@offsite/testing';
import { createAckServer, receiptChannel } from './ack-server.js';
import { createAlerter, type Alerter, type ReceiptCounts } from './app.js';
import { freshSchema } from '../test/int-support.js';
import { defaultPolicy } from './policy.js';
import { createRejectKeeper } from './receipt-rejects.js';
import * as repo from './repo.js';

const id = randomBytes(4).toString('hex');
const key = `rk-${randomBytes(12).toString('hex')}`;

describe('SMS delivery receipt callbacks over HTTP', () => {
  const redisUrl = requireEnv('OFFSITE_REDIS_URL');
  const redis = new URL(redisUrl);
  let db: TestSchema;
  let pool: pg.Pool;
  let dir: string;
  let alerter: Alerter;
  let server: FastifyInstance;
  let base: string;
  const events: NotificationV1[] = [];
  const counts: ({ provider: string } & ReceiptCounts)[] = [];

  const post = async (route: string, body: string, contentType = 'application/json') => {
    const res = await fetch(`${base}${route}`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const receipts = async () =>
    (
      await pool.query<{
        notification_id: string;
        provider: string;
        delivered: boolean;
        error_code: string | null;
        phone_masked: string;
        reported_at: Date | null;
      }>(`select * from alert_delivery_receipts order by notification_id`)
    ).rows;

  // Four SMS notifications as the send path leaves them: claimed, then recorded as sent with the
  // provider's message id (Aliyun BizId, Tencent SerialNo).
  const sent = [
    { id: `g${id}.c1.sms.r1`, provider: 'aliyun-sms', pmid: '900619000000000000^0' },
    { id: `g${id}.c2.sms.r1`, provider: 'aliyun-sms', pmid: '900619000000000001^0' },
    { id: `g${id}.c3.sms.r1`, provider: 'tencent-sms', pmid: '2019:6547349011587411810' },
    { id: `g${id}.c4.sms.r1`, provider: 'tencent-sms', pmid: '2019:6547349011587411811' },
  ];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'alerter-receipts-'));
    db = await freshSchema(`rc${id}.example`);
    pool = db.pool;
    alerter = createAlerter({
      db: pool,
      connection: { host: redis.hostname, port: Number(redis.port), maxRetriesPerRequest: null },
      prefix: `t-receipts-${id}`,
      policy: defaultPolicy(),
      channels: {},
      ack: { secret: 'receipts-test-secret', baseUrl: 'http://127.0.0.1:8090/ack' },
      logger: silentLogger,
      publish: (e) => {
        events.push(e);
      },
    });
    server = createAckServer({
      alerter,
      receiptKey: key,
      onReceipts: (provider, c) => counts.push({ provider, ...c }),
      onRejected: createRejectKeeper({ dir: path.join(dir, 'rejected'), logger: silentLogger }),
    });
    base = await server.listen({ host: '127.0.0.1', port: 0 });
    const claims = await repo.claimSends(
      pool,
      sent.map((s, i) => ({
        id: s.id,
        groupKey: `g${id}`,
        deviationIds: [`dev-${id}-${i}`],
        kind: 'reminder',
        round: 1,
        recipientKind: 'enterprise-contact',
        recipientId: String(i + 1),
        addressMasked: `138****000${i}`,
        channel: 'sms',
      })),
    );
    expect(claims.every((c) => c.proceed)).toBe(true);
    await repo.recordSent(
      pool,
      sent.map((s) => ({
        notificationId: s.id,
        attempt: 1,
        provider: s.provider,
        providerMessageId: s.pmid,
        latencyMs: 12,
      })),
    );
  });

  afterAll(async () => {
    await server.close();
    await alerter.close();
    const r = new Redis(redisUrl);
    const keys = await r.keys(`t-receipts-${id}:*`);
    if (keys.length > 0) await r.del(...keys);
    r.disconnect();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('records Aliyun SmsReport receipts (delivered and failed) and answers {code: 0}', async () => {
    // Aliyun's documented SmsReport push: a JSON array, report_time in Beijing time.
    const body = JSON.stringify([
      {
        phone_number: '13800000000',
        send_time: '2026-03-02 10:00:01',
        report_time: '2026-03-02 10:00:05',
        success: true,
        err_code: 'DELIVERED',
        err_msg: '用户接收成功',
        sms_size: '1',
        biz_id: sent[0]!.pmid,
        out_id: sent[0]!.id,
      },
      {
        phone_number: '13800000001',
        send_time: '2026-03-02 10:00:01',
        report_time: '2026-03-02 10:00:07',
        success: false,
        err_code: 'MOBILE_NOT_ON_SERVICE',
        err_msg: '停机',
        sms_size: '1',
        biz_id: sent[1]!.pmid,
        out_id: '',
      },
    ]);
    const r = await post(`/sms/receipts/aliyun/${key}`, body);
    expect(r).toEqual({ status: 200, json: { code: 0, msg: '成功' } });
    const rows = await receipts();
    expect(rows.map((x) => [x.notification_id, x.provider, x.delivered, x.error_code])).toEqual([
      [sent[0]!.id, 'aliyun-sms', true, null],
      [sent[1]!.id, 'aliyun-sms', false, 'MOBILE_NOT_ON_SERVICE'],
    ]);
    expect(rows[0]!.phone_masked).toBe('138****0000'); // the stored mask, never the full number
    expect(rows[0]!.reported_at?.toISOString()).toBe('2026-03-02T02:00:05.000Z'); // UTC
    expect(events.map((e) => [e.id, e.status, e.error?.code])).toEqual([
      [sent[0]!.id, 'delivered', undefined],
      [sent[1]!.id, 'failed', 'receipt-mobile_not_on_service'],
    ]);

    // The provider repeats a push: no second row, no second event.
    expect((await post(`/sms/receipts/aliyun/${key}`, body)).status).toBe(200);
    expect(await receipts()).toHaveLength(2);
    expect(events).toHaveLength(2);
    expect(counts.at(-1)).toEqual({ provider: 'aliyun', new: 0, repeat: 2, unknown: 0 });
  });

  it('records Tencent status callbacks and answers {result: 0}', async () => {
    // Tencent Cloud SMS "短信下发状态通知": a JSON array, user_receive_time in Beijing time.
    const body = JSON.stringify([
      {
        user_receive_time: '2026-03-02 10:01:04',
        nationcode: '86',
        mobile: '13800000002',
        report_status: 'SUCCESS',
        errmsg: 'DELIVRD',
        description: '用户短信送达成功',
        sid: sent[2]!.pmid,
      },
      {
        user_receive_time: '2026-03-02 10:01:09',
        nationcode: '86',
        mobile: '13800000003',
        report_status: 'FAIL',
        errmsg: 'MK:0001',
        description: '用户短信发送失败',
        sid: sent[3]!.pmid,
      },
      {
        user_receive_time: '2026-03-02 10:01:09',
        nationcode: '86',
        mobile: '13800000009',
        report_status: 'SUCCESS',
        errmsg: 'DELIVRD',
        description: '用户短信送达成功',
        sid: '2019:not-ours',
      },
    ]);
    const r = await post(`/sms/receipts/tencent/${key}`, body);
    expect(r).toEqual({ status: 200, json: { result: 0, errmsg: 'OK' } });
    const rows = (await receipts()).filter((x) => x.provider === 'tencent-sms');
    expect(rows.map((x) => [x.notification_id, x.delivered, x.error_code])).toEqual([
      [sent[2]!.id, true, null],
      [sent[3]!.id, false, 'MK:0001'],
    ]);
    expect(counts.at(-1)).toEqual({ provider: 'tencent', new: 2, repeat: 0, unknown: 1 });
    // Both providers' receipts are counted under the sms channel (offsite_alerter_receipts_total{channel}).
    expect([...new Set(counts.map((c) => receiptChannel(c.provider)))]).toEqual(['sms']);
    expect(events.slice(2).map((e) => [e.id, e.status])).toEqual([
      [sent[2]!.id, 'delivered'],
      [sent[3]!.id, 'failed'],
    ]);
  });

  it('refuses a wrong key (401) and malformed bodies (400) in the provider format, and keeps each refused callback', async () => {
    const before = (await receipts()).length;
    const wrongKey = await post(`/sms/receipts/aliyun/not-the-key`, '[]');
    expect(wrongKey.status).toBe(401);
    expect(wrongKey.json).toMatchObject({ code: 1, msg: 'receipt-key-invalid' });
    const notJson = await post(`/sms/receipts/aliyun/${key}`, '{"phone_number": ', 'text/plain');
    expect(notJson.status).toBe(400);
    expect(notJson.json).toMatchObject({ code: 1, msg: 'NOTIFY_RECEIPT_INVALID' });
    const missing = await post(`/sms/receipts/tencent/${key}`, JSON.stringify([{ mobile: '138', sid: 'x' }]));
    expect(missing.status).toBe(400);
    expect(missing.json).toMatchObject({ result: 1, errmsg: 'NOTIFY_RECEIPT_INVALID' });
    expect(String(missing.json.message)).toContain('report_status');
    expect((await receipts()).length).toBe(before);

    const kept = (await readdir(path.join(dir, 'rejected'))).filter((f) => f.endsWith('.json')).sort();
    expect(kept).toHaveLength(3);
    const docs = await Promise.all(
      kept.map(
        async (f) =>
          JSON.parse(await readFile(path.join(dir, 'rejected', f), 'utf8')) as {
            provider: string;
            reason: string;
            status: number;
            body: string;
          },
      ),
    );
    expect(docs.map((d) => [d.provider, d.reason, d.status]).sort()).toEqual([
      ['aliyun', 'NOTIFY_RECEIPT_INVALID', 400],
      ['aliyun', 'receipt-key-invalid', 401],
      ['tencent', 'NOTIFY_RECEIPT_INVALID', 400],
    ]);
    expect(docs.find((d) => d.status === 400 && d.provider === 'aliyun')?.body).toBe('{"phone_number": ');
  });
});
