import type { Logger } from '@offsite/runtime/logger';
import { silentLogger } from '@offsite/testing';
import type { OutgoingNotification } from '../channel.js';
import { startWechatFake, type WechatFake } from '../testing/wechat-fake.js';
import { wechatApiContract, type WechatApiTarget } from './api-contract.test-fixtures.js';
import { parseWechatPush, parseWechatXml, verifyWechatSignature, wechatSignature } from './callback.js';
import { createWechatChannel, type WechatConfig } from './index.js';

const FOLLOWER = 'oia2TjuEGTNoeX76QEjQNrcURxG8';
const GONE = 'oGone00000000000000000000000';
const SECRET = 'app-secret-never-logged';
let fake: WechatFake;
beforeAll(async () => {
  fake = await startWechatFake({
    appId: 'wx0000000000000001',
    appSecret: SECRET,
    followers: [FOLLOWER],
    unfollowed: [GONE],
    templates: ['TPL-REMINDER', 'TPL-TEXT'],
  });
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.sent.length = 0;
  fake.stats.tokenRequests = 0;
});

wechatApiContract('the local fake', () => ({
  baseUrl: fake.url,
  appId: 'wx0000000000000001',
  appSecret: SECRET,
  follower: FOLLOWER,
  templateId: 'TPL-TEXT',
  fields: ['thing1'],
}));

// A real account (the MP sandbox) when one is configured: the same contract, the same adapter.
const real = process.env.OFFSITE_WECHAT_CONTRACT_APPID;
for (const target of real
  ? [
      {
        baseUrl: process.env.OFFSITE_WECHAT_CONTRACT_BASE_URL ?? 'https://api.weixin.qq.com',
        appId: real,
        appSecret: process.env.OFFSITE_WECHAT_CONTRACT_SECRET ?? '',
        follower: process.env.OFFSITE_WECHAT_CONTRACT_OPENID ?? '',
        templateId: process.env.OFFSITE_WECHAT_CONTRACT_TEMPLATE ?? '',
        fields: (process.env.OFFSITE_WECHAT_CONTRACT_FIELDS ?? 'thing1').split(','),
      } satisfies WechatApiTarget,
    ]
  : [])
  wechatApiContract(`the account ${target.appId}`, () => target);

const config = (): WechatConfig => ({
  appId: 'wx0000000000000001',
  appSecret: SECRET,
  baseUrl: fake.url,
  templates: {
    reminder: { id: 'TPL-REMINDER', fields: { thing1: 'enterprise', thing2: 'rule', time3: 'time' } },
  },
});
const msg = (id: string, to = FOLLOWER): OutgoingNotification => ({
  id,
  to: { address: to, name: '张三' },
  language: 'zh',
  subject: 's',
  text: 't',
  html: 'h',
  sms: {
    template: 'reminder',
    params: {
      enterprise: '青澜热电',
      rule: '产治污不同步',
      time: '03-01 10:00',
      link: 'https://ack.example/a?t=x',
    },
    text: '…',
  },
});

describe('WeChat template-message channel against the local fake', () => {
  it('sends the template with the link, the client_msg_id and the mapped fields; keeps the msgid exact', async () => {
    const ch = createWechatChannel(config(), silentLogger);
    const r = await ch.send(msg('n-1'));
    expect(fake.sent).toHaveLength(1);
    expect(fake.sent[0]).toEqual({
      touser: FOLLOWER,
      template_id: 'TPL-REMINDER',
      url: 'https://ack.example/a?t=x',
      client_msg_id: 'n-1',
      data: {
        thing1: { value: '青澜热电' },
        thing2: { value: '产治污不同步' },
        time3: { value: '03-01 10:00' },
      },
      msgid: fake.sent[0]!.msgid,
    });
    // Above 2^53: a JSON number would round it and receipts would never match.
    expect(BigInt(r.providerMessageId)).toBeGreaterThan(2n ** 53n);
    expect(r).toMatchObject({ provider: 'wechat-mp', providerMessageId: fake.sent[0]!.msgid });
  });

  it('fetches one token for many sends, and refreshes it once when WeChat says it expired', async () => {
    const ch = createWechatChannel(config(), silentLogger);
    await Promise.all([ch.send(msg('t-1')), ch.send(msg('t-2')), ch.send(msg('t-3'))]);
    expect(fake.stats.tokenRequests).toBe(1);
    fake.expireTokens();
    await ch.send(msg('t-4'));
    expect(fake.stats.tokenRequests).toBe(2);
    expect(fake.sent.map((s) => s.client_msg_id)).toEqual(['t-1', 't-2', 't-3', 't-4']);
    // A token refused again right after the refresh is not retried in the same call.
    fake.failNext(40001, 2);
    await expect(ch.send(msg('t-5'))).rejects.toMatchObject({
      code: 'NOTIFY_PROVIDER_REJECTED',
      retryable: true,
    });
    expect(fake.stats.tokenRequests).toBe(3);
  });

  it('refreshes a token before WeChat would expire it', async () => {
    let clock = Date.now();
    const ch = createWechatChannel({ ...config(), now: () => clock }, silentLogger);
    await ch.send(msg('c-1'));
    clock += 7200_000 - 299_000; // inside the 300 s margin
    await ch.send(msg('c-2'));
    expect(fake.stats.tokenRequests).toBe(2);
  });

  it('classifies the documented errcodes: recipient permanent, busy and quota retryable', async () => {
    const ch = createWechatChannel(config(), silentLogger);
    await expect(ch.send(msg('e-1', GONE))).rejects.toMatchObject({
      code: 'NOTIFY_INVALID_RECIPIENT',
      retryable: false,
      message: expect.stringContaining('43004'),
    });
    await expect(ch.send(msg('e-2', 'oUnknown000000000000000000000'))).rejects.toMatchObject({
      code: 'NOTIFY_INVALID_RECIPIENT',
      retryable: false,
      message: expect.stringContaining('40003'),
    });
    fake.failNext(-1);
    await expect(ch.send(msg('e-3'))).rejects.toMatchObject({
      code: 'NOTIFY_PROVIDER_UNAVAILABLE',
      retryable: true,
    });
    fake.failNext(45009);
    await expect(ch.send(msg('e-4'))).rejects.toMatchObject({ code: 'NOTIFY_RATE_LIMITED', retryable: true });
    await expect(
      ch.send({ ...msg('e-5'), sms: { template: 'escalation', params: {}, text: '' } }),
    ).rejects.toMatchObject({
      code: 'NOTIFY_CONTENT_REJECTED',
      message: 'no WeChat template configured for escalation',
    });
    await expect(ch.send(msg('e-6', '138 0013 8000'))).rejects.toMatchObject({
      code: 'NOTIFY_INVALID_RECIPIENT',
    });
    expect(fake.sent).toEqual([]);
    // The retried send goes through.
    await ch.send(msg('e-3'));
    expect(fake.sent).toHaveLength(1);
  });

  it('a re-send of one notification within WeChat’s window is one message (client_msg_id)', async () => {
    const ch = createWechatChannel(config(), silentLogger);
    const a = await ch.send(msg('dup-1'));
    const b = await ch.send(msg('dup-1'));
    expect(b.providerMessageId).toBe(a.providerMessageId);
    expect(fake.sent).toHaveLength(1);
  });

  it('never logs or reports the secret, also when WeChat refuses it', async () => {
    const lines: string[] = [];
    const rec: Logger = {
      debug: (o, m) => void lines.push(JSON.stringify([o, m])),
      info: (o, m) => void lines.push(JSON.stringify([o, m])),
      warn: (o, m) => void lines.push(JSON.stringify([o, m])),
      error: (o, m) => void lines.push(JSON.stringify([o, m])),
      child: () => rec,
    };
    await createWechatChannel(config(), rec).send(msg('s-1'));
    const err = await createWechatChannel({ ...config(), appSecret: `${SECRET}-wrong` }, rec)
      .send(msg('s-2'))
      .catch((e: Error) => e);
    expect(err).toMatchObject({
      code: 'NOTIFY_PROVIDER_REJECTED',
      message: expect.stringContaining('40125'),
    });
    expect(lines.length).toBeGreaterThan(0);
    expect(JSON.stringify([lines, (err as Error).message])).not.toContain(SECRET);
  });
});

describe('WeChat callbacks', () => {
  it('checks the signature WeChat computes over token, timestamp and nonce', () => {
    const signature = wechatSignature('tok', '1395658920', 'n0nce');
    expect(verifyWechatSignature('tok', { signature, timestamp: '1395658920', nonce: 'n0nce' })).toBe(true);
    expect(verifyWechatSignature('other', { signature, timestamp: '1395658920', nonce: 'n0nce' })).toBe(
      false,
    );
    expect(verifyWechatSignature('tok', { signature, timestamp: '1395658921', nonce: 'n0nce' })).toBe(false);
    expect(verifyWechatSignature('tok', { timestamp: '1395658920', nonce: 'n0nce' })).toBe(false);
  });

  it('reads TEMPLATESENDJOBFINISH as a receipt and a text message as text', () => {
    const head = `<ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><FromUserName><![CDATA[${FOLLOWER}]]></FromUserName><CreateTime>1395658920</CreateTime>`;
    const ok = parseWechatPush(
      `<xml>${head}<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>3487542469355618313</MsgID><Status><![CDATA[success]]></Status></xml>`,
    );
    expect(ok).toEqual({
      kind: 'receipt',
      receipt: {
        provider: 'wechat-mp',
        providerMessageId: '3487542469355618313',
        phone: FOLLOWER,
        delivered: true,
        at: new Date('2014-03-24T11:02:00Z'),
      },
    });
    const blocked = parseWechatPush(
      `<xml>${head}<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>200163836</MsgID><Status><![CDATA[failed:user block]]></Status></xml>`,
    );
    expect(blocked).toMatchObject({
      receipt: { delivered: false, errorCode: 'user-block', errorMessage: 'failed:user block' },
    });
    expect(
      parseWechatPush(
        `<xml>${head}<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[排口冒黑烟 <附近>]]></Content><MsgId>1234567890123456</MsgId></xml>`,
      ),
    ).toMatchObject({
      kind: 'text',
      openid: FOLLOWER,
      content: '排口冒黑烟 <附近>',
      msgId: '1234567890123456',
    });
  });

  it('refuses a body that is not WeChat’s flat XML, naming what is wrong', () => {
    expect(() => parseWechatXml('{"a":1}')).toThrow('not an <xml> document');
    expect(() => parseWechatXml('<xml><a><b>1</b></a></xml>')).toThrow('not a flat list');
    expect(() => parseWechatXml('<!DOCTYPE x><xml></xml>')).toThrow('not an <xml> document');
    expect(() => parseWechatPush('<xml><MsgType>event</MsgType></xml>')).toThrow('lacks FromUserName');
    expect(parseWechatXml('<xml><A>a &amp; b</A><B><![CDATA[<c>]]></B></xml>')).toEqual({
      A: 'a & b',
      B: '<c>',
    });
  });
});
