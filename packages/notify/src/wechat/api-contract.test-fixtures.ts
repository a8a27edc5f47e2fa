// The contract of the WeChat template-message API as documented, in jest blocks: the local fake
// passes it in the unit tests, and so does a real account (the MP sandbox 测试号) when
// OFFSITE_WECHAT_CONTRACT_* names one. The last block runs the real adapter against the target.
import { silentLogger } from '@offsite/testing';
import type { OutgoingNotification } from '../channel.js';
import { createWechatChannel } from './index.js';

export interface WechatApiTarget {
  baseUrl: string;
  appId: string;
  appSecret: string;
  /** An openid that follows the account. */
  follower: string;
  templateId: string;
  /** The template's data keys, each filled with a sample value. */
  fields: string[];
}

const TOKEN_ERRORS = [40001, 40014, 42001];

async function json(res: Response): Promise<{ raw: string; body: Record<string, unknown> }> {
  const raw = await res.text();
  return { raw, body: JSON.parse(raw) as Record<string, unknown> };
}

export function wechatApiContract(name: string, target: () => WechatApiTarget): void {
  const t = () => target();
  const token = async (secret = t().appSecret) => {
    const q = new URLSearchParams({ grant_type: 'client_credential', appid: t().appId, secret });
    return json(await fetch(`${t().baseUrl}/cgi-bin/token?${q}`));
  };
  const send = async (accessToken: string, body: Record<string, unknown>) =>
    json(
      await fetch(
        `${t().baseUrl}/cgi-bin/message/template/send?access_token=${encodeURIComponent(accessToken)}`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        },
      ),
    );
  const data = () => Object.fromEntries(t().fields.map((f) => [f, { value: '合同测试 contract' }]));

  describe(`WeChat template-message API contract: ${name}`, () => {
    it('hands out an access_token with its lifetime, and refuses a wrong secret', async () => {
      const ok = await token();
      expect(typeof ok.body.access_token).toBe('string');
      expect(ok.body.expires_in).toEqual(expect.any(Number));
      expect(ok.body.expires_in as number).toBeGreaterThan(0);
      const bad = await token(`${t().appSecret}x`);
      expect(bad.body.access_token).toBeUndefined();
      expect([40001, 40125]).toContain(bad.body.errcode);
    });

    it('accepts a template message to a follower with errcode 0 and a numeric msgid', async () => {
      const tk = (await token()).body.access_token as string;
      const r = await send(tk, { touser: t().follower, template_id: t().templateId, data: data() });
      expect(r.body.errcode).toBe(0);
      expect(r.raw).toMatch(/"msgid"\s*:\s*\d+/);
    });

    it('answers a token error for a made-up access_token', async () => {
      const r = await send('not-a-token', {
        touser: t().follower,
        template_id: t().templateId,
        data: data(),
      });
      expect(TOKEN_ERRORS).toContain(r.body.errcode);
    });

    it('refuses an openid that is not of this account (40003) and an unknown template (40037)', async () => {
      const tk = (await token()).body.access_token as string;
      const who = await send(tk, {
        touser: 'oNotAFollowerOfThisAccount0000',
        template_id: t().templateId,
        data: data(),
      });
      expect(who.body.errcode).toBe(40003);
      const tpl = await send(tk, { touser: t().follower, template_id: 'no-such-template-id', data: data() });
      expect([40036, 40037]).toContain(tpl.body.errcode);
    });

    it('is what the adapter expects: it sends through it and classifies a bad openid as permanent', async () => {
      const ch = createWechatChannel(
        {
          appId: t().appId,
          appSecret: t().appSecret,
          baseUrl: t().baseUrl,
          templates: {
            regulation: {
              id: t().templateId,
              fields: Object.fromEntries(t().fields.map((f) => [f, 'text'])),
            },
          },
        },
        silentLogger,
      );
      const m: OutgoingNotification = {
        id: `contract-${Date.now()}`,
        to: { address: t().follower },
        language: 'zh',
        subject: 's',
        text: 't',
        html: 'h',
        sms: { template: 'regulation', params: { text: '合同测试 contract' }, text: '合同测试' },
      };
      const r = await ch.send(m);
      expect(r.providerMessageId).toMatch(/^\d+$/);
      await expect(
        ch.send({ ...m, id: `${m.id}-b`, to: { address: 'oNotAFollowerOfThisAccount0000' } }),
      ).rejects.toMatchObject({
        code: 'NOTIFY_INVALID_RECIPIENT',
        retryable: false,
      });
    });
  });
}
