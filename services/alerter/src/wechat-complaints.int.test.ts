// Users' text messages to the official account on real Kafka: a signed text becomes one
// complaint.intake.v1 event (its id from the account and MsgId, so WeChat's retry is the same event) and
// only then gets WeChat's passive reply in Chinese; a text out of shape is answered with the reason and
// kept, an oversized body refused (413) and kept, and a hand-off that fails answers 503 (WeChat pushes
// it again) and is kept. Nothing is published for a refused message.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import {
  kafkaMessage,
  kafkaTopics,
  validateComplaintIntakeV1,
  type ComplaintIntakeV1,
} from '@offsite/contracts';
import { createDurableProducer, createKafkaClient, ensureTopics } from '@offsite/kafka';
import { parseWechatXml, wechatSignature } from '@offsite/notify';
import { requireEnv, silentLogger, until } from '@offsite/testing';
import type { Consumer } from 'kafkajs';
import { createAckServer } from './ack-server.js';
import { createComplaintHandoff } from './complaint-handoff.js';
import { createRejectKeeper } from './receipt-rejects.js';
import { WECHAT_COMPLAINT_REPLY } from './wechat-callback.js';

const run = randomBytes(4).toString('hex');
const TOKEN = `cb-token-${run}`;
const ACCOUNT = 'gh_0a1b2c3d4e5f';
const OPENID = `oUser${run}00000000000000`;
const topic = `test.alerter.complaint-intake.${run}`;
const unused = { ackView: async () => null, acknowledge: async () => null, recordReceipts: async () => null };

describe('complaints through the WeChat official account, on real Kafka', () => {
  const kafka = createKafkaClient({
    brokers: requireEnv('OFFSITE_KAFKA_BROKERS').split(','),
    clientId: `alerter-wx-complaints-${run}`,
    logger: silentLogger,
  });
  const producer = createDurableProducer(kafka, { logger: silentLogger });
  let consumer: Consumer;
  const events: ComplaintIntakeV1[] = [];
  const outcomes: string[] = [];
  let server: FastifyInstance;
  let failing: FastifyInstance;
  let base: string;
  let failingBase: string;
  let dir: string;

  const make = (publish: (e: ComplaintIntakeV1) => Promise<void>) =>
    createAckServer({
      alerter: unused as never,
      wechat: {
        token: TOKEN,
        provider: 'wechat-mp',
        onText: createComplaintHandoff(publish, (o) => void outcomes.push(o)),
      },
      onRejected: createRejectKeeper({ dir: path.join(dir, 'rejected'), logger: silentLogger }),
    });
  const signed = (at: string, nonce = 'n1') =>
    new URLSearchParams({ signature: wechatSignature(TOKEN, at, nonce), timestamp: at, nonce });
  const text = (msgId: string, content: string, at: number) =>
    `<xml><ToUserName><![CDATA[${ACCOUNT}]]></ToUserName><FromUserName><![CDATA[${OPENID}]]></FromUserName>` +
    `<CreateTime>${at}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${content}]]></Content>` +
    `<MsgId>${msgId}</MsgId></xml>`;
  const push = (to: string, body: string) => {
    const at = String(Math.floor(Date.now() / 1000));
    return fetch(`${to}/wechat/callback?${signed(at)}`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body,
    });
  };
  const kept = async (reason: string) =>
    (await readdir(path.join(dir, 'rejected')).catch(() => [] as string[])).filter((f) => f.includes(reason));

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'alerter-wx-complaints-'));
    // One partition: the events are read in the order they were published.
    await ensureTopics(kafka, [{ topic, numPartitions: 1 }]);
    await producer.connect();
    consumer = kafka.consumer({ groupId: `${topic}.reader` });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const v = validateComplaintIntakeV1(JSON.parse(message.value!.toString()));
        if (!v.ok) throw new Error(v.errors.join('; '));
        events.push(v.value);
      },
    });
    server = make(async (e) => {
      await producer.send(topic, [kafkaMessage(kafkaTopics.complaintIntake, e)]);
    });
    base = await server.listen({ host: '127.0.0.1', port: 0 });
    failing = make(async () => {
      throw new Error('broker unreachable');
    });
    failingBase = await failing.listen({ host: '127.0.0.1', port: 0 });
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await failing?.close();
    await consumer?.disconnect();
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
    await rm(dir, { recursive: true, force: true });
  });

  it('passes a text on before answering with the passive reply; WeChat’s retry is the same event', async () => {
    const at = Math.floor(Date.parse('2026-03-02T01:30:00Z') / 1000);
    const body = text('24000000000000077', '  青澜化工夜间偷排，气味刺鼻 ', at);
    const res = await push(base, body);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/xml/);
    const reply = parseWechatXml(await res.text());
    expect(reply).toMatchObject({
      ToUserName: OPENID,
      FromUserName: ACCOUNT,
      MsgType: 'text',
      Content: WECHAT_COMPLAINT_REPLY,
    });
    expect(reply.Content).toContain('投诉举报已收到');
    expect(Math.abs(Number(reply.CreateTime) - Date.now() / 1000)).toBeLessThan(60);
    // The answer came after Kafka acknowledged the event, so it is there to be read.
    await until(() => events.length >= 1, 30_000, 'the first event');
    expect(events).toEqual([
      {
        schema: 'complaint.intake.v1',
        id: `wechat:${ACCOUNT}:24000000000000077`,
        channel: 'wechat',
        account: ACCOUNT,
        source: OPENID,
        sourceMessageId: '24000000000000077',
        text: '青澜化工夜间偷排，气味刺鼻',
        receivedAt: '2026-03-02T01:30:00.000Z',
      },
    ]);
    // WeChat did not get the answer in time and pushes the same MsgId again: the same event id.
    expect((await push(base, body)).status).toBe(200);
    await until(() => events.length >= 2, 30_000, 'the retried event');
    expect(new Set(events.map((e) => e.id)).size).toBe(1);
    expect(outcomes).toEqual(['passed-on', 'passed-on']);
  }, 60_000);

  it('answers a text out of shape with the reason, keeps it and publishes nothing', async () => {
    outcomes.length = 0;
    const before = events.length;
    const res = await push(base, text('24000000000000078', '长'.repeat(4001), 1_772_400_000));
    expect(res.status).toBe(200);
    expect(parseWechatXml(await res.text()).Content).toContain('超过4000字');
    const files = await kept('wechat-message-invalid');
    expect(files).toHaveLength(1);
    const doc = JSON.parse(await readFile(path.join(dir, 'rejected', files[0]!), 'utf8')) as {
      message: string;
      body: string;
    };
    expect(doc.message).toContain('Content');
    expect(doc.body).toContain('24000000000000078');
    // The sender's openid is personal data: kept only masked.
    expect(doc.body).not.toContain(OPENID);
    expect(doc.body).toContain(`<FromUserName><![CDATA[${OPENID.slice(0, 3)}****${OPENID.slice(-4)}]]>`);
    expect(outcomes).toEqual(['refused']);
    // A later message is read after it: had the refused one been published, it would come first.
    await push(base, text('24000000000000079', '排口冒黑烟', 1_772_400_001));
    await until(() => events.length > before, 30_000, 'the later event');
    expect(events.slice(before).map((e) => e.sourceMessageId)).toEqual(['24000000000000079']);
  }, 60_000);

  it('refuses an oversized body (413) and keeps it; malformed XML is a 400, kept', async () => {
    const big = await push(base, text('24000000000000080', 'x'.repeat(70 * 1024), 1_772_400_000));
    expect(big.status).toBe(413);
    expect(await big.text()).toContain('wechat-body-too-large');
    expect(await kept('wechat-body-too-large')).toHaveLength(1);
    const bad = await push(base, '<xml><MsgType><![CDATA[text]]></MsgType><Content>');
    expect(bad.status).toBe(400);
    expect(await kept('notify_receipt_invalid')).toHaveLength(1);
  });

  it('answers 503 when the hand-off fails (WeChat pushes again) and keeps the message', async () => {
    outcomes.length = 0;
    const res = await push(failingBase, text('24000000000000081', '河道排污', 1_772_400_000));
    expect(res.status).toBe(503);
    const files = await kept('wechat-message-not-passed-on');
    expect(files).toHaveLength(1);
    const doc = await readFile(path.join(dir, 'rejected', files[0]!), 'utf8');
    expect(doc).toContain('河道排污');
    expect(doc).not.toContain(OPENID);
    expect(outcomes).toEqual(['failed']);
  });
});
