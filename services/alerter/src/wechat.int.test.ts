// The `wechat` channel end to end on real Postgres and Redis, with the local fake of the WeChat API:
// a reminder goes out once per round as a template message whatever retries and redeliveries happen,
// a refused send is recorded with WeChat's reason, and the fake's signed TEMPLATESENDJOBFINISH push
// (over HTTP to the alerter's /wechat/callback) becomes a delivery receipt; a bad signature is a 401, kept.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { NotificationV1 } from '@offsite/contracts';
import { createOutboxChannel, createWechatChannel, wechatSignature } from '@offsite/notify';
import { startWechatFake, type WechatFake } from '@offsite/notify/testing';
import { requireEnv, silentLogger, until, type TestSchema } from '@offsite/testing';
import { createAckServer, receiptChannel } from './ack-server.js';
import { createAlerter, type Alerter } from './app.js';
import { defaultPolicy, type AlertPolicy, type ChannelName } from './policy.js';
import { createRejectKeeper } from './receipt-rejects.js';
import { deviation, freshSchema } from '../test/int-support.js';

const id = randomBytes(4).toString('hex');
const FOLLOWER = `oFollower${id}000000000000`;
const GONE = `oUnfollowed${id}0000000000`;
const TOKEN = `cb-token-${id}`;

let n = 0;
const dev = () =>
  deviation(id, 'ent-0001', n++, { rule: 'treatment-idle', siteId: 'mtr-0001-t1', severity: 'medium' });

describe('the wechat channel on real Postgres and Redis, against the local WeChat fake', () => {
  const redis = new URL(requireEnv('OFFSITE_REDIS_URL'));
  let db: TestSchema;
  let pool: pg.Pool;
  let fake: WechatFake;
  let server: FastifyInstance;
  let base: string;
  let dir: string;
  let alerter: Alerter | undefined;
  /** What the receipt metrics are labelled with: [channel, provider, reason] and [channel, provider, new receipts]. */
  const refusedAs: [string, string, string][] = [];
  const receiptsAs: [string, string, number][] = [];
  const events: NotificationV1[] = [];
  // 10:00 Shanghai: outside quiet hours.
  const t0 = Date.parse('2026-03-02T02:00:00Z') - Date.now();

  const policy = (channels: ChannelName[]): AlertPolicy => {
    const p = defaultPolicy();
    p.groupWaitMs = 200;
    p.entries = p.entries.map((e) => ({ ...e, channels, repeat: { intervalMs: 60_000, maxCount: 1 } }));
    return p;
  };
  const start = (channels: ChannelName[] = ['wechat']) => {
    alerter = createAlerter({
      db: pool,
      connection: { host: redis.hostname, port: Number(redis.port), maxRetriesPerRequest: null },
      prefix: `t-wx-${randomBytes(4).toString('hex')}`,
      policy: policy(channels),
      channels: {
        email: createOutboxChannel({ dir: path.join(dir, 'email'), as: 'email' }, silentLogger),
        wechat: createWechatChannel(
          {
            appId: 'wx-offsite-test',
            appSecret: `secret-${id}`,
            baseUrl: fake.url,
            templates: {
              reminder: { id: 'TPL-R', fields: { thing1: 'enterprise', thing2: 'rule', time3: 'time' } },
            },
          },
          silentLogger,
        ),
      },
      ack: { secret: 'wechat-test-secret', baseUrl: 'http://127.0.0.1:9106/ack' },
      logger: silentLogger,
      now: () => new Date(Date.now() + t0),
      send: { attempts: 4, backoffMs: 50 },
      publish: (e) => void events.push(e),
    });
    alerter.start();
    return alerter;
  };
  const notifications = async () =>
    (
      await pool.query<{
        id: string;
        channel: string;
        status: string;
        address_masked: string;
        provider_message_id: string | null;
      }>(
        `select id, channel, status, address_masked, provider_message_id from alert_notifications order by id`,
      )
    ).rows;
  const attempts = async (nid: string) =>
    (
      await pool.query<{
        provider: string;
        status: string;
        error_code: string | null;
        error_message: string | null;
      }>(
        `select provider, status, error_code, error_message from alert_delivery_attempts where notification_id = $1 order by attempt, id`,
        [nid],
      )
    ).rows;
  const setOpenid = (openid: string | null) =>
    pool.query(
      `update contacts set wechat_openid = $1 where enterprise_id = 'ent-0001' and role = 'env-manager'`,
      [openid],
    );

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'alerter-wechat-'));
    db = await freshSchema(`wx${id}.example`, 5);
    pool = db.pool;
    // The callback goes to the ack server, which needs the alerter: it is created per test, so the
    // server forwards to whichever alerter runs.
    server = createAckServer({
      alerter: {
        ackView: (...a) => alerter!.ackView(...a),
        acknowledge: (...a) => alerter!.acknowledge(...a),
        recordReceipts: (...a) => alerter!.recordReceipts(...a),
      },
      wechat: { token: TOKEN, provider: 'wechat-mp' },
      onRejected: createRejectKeeper({
        dir: path.join(dir, 'rejected'),
        logger: silentLogger,
        counted: (provider, reason) => refusedAs.push([receiptChannel(provider), provider, reason]),
      }),
      onReceipts: (provider, counts) => receiptsAs.push([receiptChannel(provider), provider, counts.new]),
    });
    base = await server.listen({ host: '127.0.0.1', port: 0 });
    fake = await startWechatFake({
      appId: 'wx-offsite-test',
      appSecret: `secret-${id}`,
      followers: [FOLLOWER],
      unfollowed: [GONE],
      templates: ['TPL-R'],
      callback: { url: `${base}/wechat/callback`, token: TOKEN },
    });
  });
  afterEach(async () => {
    await alerter?.close();
    alerter = undefined;
    fake.sent.length = 0;
    events.length = 0;
    await pool.query(
      'truncate alert_delivery_receipts, alert_delivery_attempts, alert_notifications, alert_cases, alert_acknowledgements cascade',
    );
  });
  afterAll(async () => {
    await fake.close();
    await server.close();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends one template message per round through retries and a redelivered deviation; the pushed receipt is stored', async () => {
    await setOpenid(FOLLOWER);
    fake.failNext(-1, 2); // system busy twice: BullMQ retries with backoff
    const a = start();
    const d = dev();
    await a.handleDeviation(d);
    await a.handleDeviation(d); // Kafka redelivery of the same event
    await until(async () => (await notifications()).some((n) => n.status === 'sent'), 15_000, 'wechat sent');
    await until(
      async () => (await pool.query('select 1 from alert_delivery_receipts')).rowCount === 1,
      10_000,
      'receipt stored',
    );
    const [n, ...more] = await notifications();
    expect(more).toEqual([]);
    expect(n).toMatchObject({ channel: 'wechat', status: 'sent', provider_message_id: fake.sent[0]!.msgid });
    expect(n!.address_masked).not.toContain(FOLLOWER);
    expect(fake.sent).toHaveLength(1);
    expect(fake.sent[0]).toMatchObject({
      touser: FOLLOWER,
      template_id: 'TPL-R',
      client_msg_id: n!.id,
      data: {
        thing1: { value: expect.any(String) },
        thing2: { value: expect.any(String) },
        time3: { value: expect.any(String) },
      },
    });
    expect(fake.sent[0]!.data.thing1!.value).not.toBe('');
    expect(fake.sent[0]!.url).toMatch(/^http:\/\/127\.0\.0\.1:9106\/ack\?t=/);
    expect((await attempts(n!.id)).map((x) => [x.status, x.error_code])).toEqual([
      ['failed', 'NOTIFY_PROVIDER_UNAVAILABLE'],
      ['failed', 'NOTIFY_PROVIDER_UNAVAILABLE'],
      ['sent', null],
    ]);
    const receipt = await pool.query(
      `select provider, provider_message_id, delivered from alert_delivery_receipts`,
    );
    expect(receipt.rows).toEqual([
      { provider: 'wechat-mp', provider_message_id: fake.sent[0]!.msgid, delivered: true },
    ]);
    // Counted in offsite_alerter_receipts_total under the wechat channel (not sms).
    expect(receiptsAs).toEqual([['wechat', 'wechat', 1]]);
    expect(events.map((e) => [e.channel, e.status])).toEqual(
      expect.arrayContaining([
        ['wechat', 'sent'],
        ['wechat', 'delivered'],
      ]),
    );
  });

  it('records a refused send with WeChat’s reason and does not retry it (user not following)', async () => {
    await setOpenid(GONE);
    const a = start();
    await a.handleDeviation(dev());
    await until(
      async () => (await notifications()).some((n) => n.status === 'failed'),
      15_000,
      'wechat failed',
    );
    const [n] = await notifications();
    const tried = await attempts(n!.id);
    expect(tried).toHaveLength(1);
    expect(tried[0]).toMatchObject({ status: 'failed', error_code: 'NOTIFY_INVALID_RECIPIENT' });
    expect(tried[0]!.error_message).toContain('43004');
    expect(events.find((e) => e.status === 'failed')).toMatchObject({
      channel: 'wechat',
      error: { code: 'notify-invalid-recipient', retryable: false },
    });
    expect(fake.sent).toEqual([]);
  });

  it('a contact without an openid gets the round by its other channels, not by WeChat', async () => {
    await setOpenid(null);
    const a = start(['wechat', 'email']);
    await a.handleDeviation(dev());
    // One plan job enqueues every channel of the round: once the e-mail is sent, the round is planned.
    await until(async () => (await notifications()).some((n) => n.status === 'sent'), 15_000, 'email sent');
    expect((await notifications()).map((n) => n.channel)).toEqual(['email']);
    expect(fake.sent).toEqual([]);
  });

  it('refuses a callback with a bad signature (401) and keeps it; answers the signed URL check', async () => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const good = new URLSearchParams({
      signature: wechatSignature(TOKEN, timestamp, 'n1'),
      timestamp,
      nonce: 'n1',
      echostr: 'e-123',
    });
    const check = await fetch(`${base}/wechat/callback?${good}`);
    expect([check.status, await check.text()]).toEqual([200, 'e-123']);
    const bad = new URLSearchParams({
      signature: wechatSignature('not-the-token', timestamp, 'n1'),
      timestamp,
      nonce: 'n1',
    });
    const res = await fetch(`${base}/wechat/callback?${bad}`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body: '<xml><MsgType>event</MsgType></xml>',
    });
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('wechat-signature-invalid');
    const files = await readdir(path.join(dir, 'rejected'));
    const kept = files.filter((f) => f.includes('wechat-signature-invalid'));
    expect(kept).toHaveLength(1);
    expect(JSON.parse(await readFile(path.join(dir, 'rejected', kept[0]!), 'utf8'))).toMatchObject({
      provider: 'wechat',
      status: 401,
    });
    // Counted in offsite_alerter_receipts_rejected_total under the wechat channel.
    expect(refusedAs).toContainEqual(['wechat', 'wechat', 'wechat-signature-invalid']);
    expect(refusedAs.every(([channel]) => channel === 'wechat')).toBe(true);
    // Signed but not WeChat's XML: 400 with the reason. A user's text: answered, and kept for a person.
    const signedPost = (body: string) =>
      fetch(`${base}/wechat/callback?${good}`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml' },
        body,
      });
    const malformed = await signedPost('{"not":"xml"}');
    expect([malformed.status, await malformed.text()]).toEqual([
      400,
      'NOTIFY_RECEIPT_INVALID: WeChat callback body is not an <xml> document',
    ]);
    const text = await signedPost(
      `<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[${FOLLOWER}]]></FromUserName><CreateTime>${timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[排口冒黑烟]]></Content><MsgId>1</MsgId></xml>`,
    );
    expect([text.status, await text.text()]).toEqual([200, 'success']);
    const all = await readdir(path.join(dir, 'rejected'));
    expect(all.filter((f) => f.includes('notify_receipt_invalid'))).toHaveLength(1);
    const taken = all.filter((f) => f.includes('wechat-message-not-taken'));
    expect(taken).toHaveLength(1);
    expect(await readFile(path.join(dir, 'rejected', taken[0]!), 'utf8')).toContain('排口冒黑烟');
  });
});
