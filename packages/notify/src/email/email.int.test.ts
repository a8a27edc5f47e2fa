import { randomBytes } from 'node:crypto';
import {
  readSinkHeads,
  readSinkMails,
  requireEnv,
  silentLogger,
  type SinkMail,
  until,
} from '@offsite/testing';
import { createEmailChannel, messageIdFor } from './index.js';

describe('email channel against the real SMTP sink', () => {
  it('delivers HTML + text in Chinese with the stable Message-ID', async () => {
    const host = requireEnv('OFFSITE_SMTP_HOST');
    const port = Number(requireEnv('OFFSITE_SMTP_PORT'));
    const mailDir = requireEnv('OFFSITE_MAIL_DIR');
    const domain = `t${randomBytes(4).toString('hex')}.example`;
    const ch = createEmailChannel(
      {
        host,
        port,
        from: { address: 'noreply@qinglan.example', name: '青澜市生态环境局' },
        messageIdDomain: 'alerter.offsite',
      },
      silentLogger,
    );
    try {
      const r = await ch.send({
        id: 'n-dev-1-c-2-email-1',
        to: { address: `wang@${domain}`, name: '王经理' },
        language: 'zh',
        subject: '【青澜市生态环境局】提醒：青澜热电有限公司产治污不同步',
        text: '请立即核查治污设施运行情况。',
        html: '<p>请立即核查治污设施运行情况。</p>',
        sms: { template: 'reminder', params: {}, text: '' },
      });
      expect(r.providerMessageId).toBe(messageIdFor('n-dev-1-c-2-email-1', 'alerter.offsite'));
      // The sink answers 250 only once the mail is stored: it is there as soon as send() resolves.
      const stored = (await readSinkHeads(mailDir)).filter((h) =>
        h.recipients.some((a) => a.endsWith(`@${domain}`)),
      );
      expect(stored.map((h) => h.messageId)).toEqual(['<n-dev-1-c-2-email-1@alerter.offsite>']);
      let got: SinkMail[] = [];
      await until(
        async () =>
          (got = await readSinkMails(mailDir, (h) => h.recipients.some((a) => a.endsWith(`@${domain}`))))
            .length === 1,
        10_000,
        'mail in sink',
      );
      const m = got[0]!;
      expect(m.recipients).toEqual([`wang@${domain}`]);
      expect(m.to).toEqual([`wang@${domain}`]);
      expect(m.subject).toBe('【青澜市生态环境局】提醒：青澜热电有限公司产治污不同步');
      expect(m.text?.trim()).toBe('请立即核查治污设施运行情况。');
      expect(m.html).toContain('<p>请立即核查治污设施运行情况。</p>');
      expect(m.messageId).toBe('<n-dev-1-c-2-email-1@alerter.offsite>');
      expect(m.headers['x-offsite-notification-id']).toBe('n-dev-1-c-2-email-1');
    } finally {
      await ch.close();
    }
  });

  it('classifies an unreachable server as retryable with failover', async () => {
    const ch = createEmailChannel(
      { host: '127.0.0.1', port: 1, from: { address: 'a@b.c' }, messageIdDomain: 'x', timeoutMs: 2000 },
      silentLogger,
    );
    try {
      await expect(
        ch.send({
          id: 'x',
          to: { address: 'a@b.c' },
          language: 'zh',
          subject: 's',
          text: 't',
          html: 'h',
          sms: { template: 'r', params: {}, text: '' },
        }),
      ).rejects.toMatchObject({ code: 'NOTIFY_PROVIDER_UNAVAILABLE', retryable: true, failover: true });
    } finally {
      await ch.close();
    }
  });
});
