import { silentLogger } from '@offsite/testing';
import { createAliyunSmsChannel, parseAliyunReceipts } from './index.js';
import { popSignature } from './sign.js';
import { startStub } from '../testing/http-stub.js';
import type { OutgoingNotification } from '../channel.js';

const msg: OutgoingNotification = {
  id: 'n-dev1-c3-sms-1',
  to: { address: '13800138000' },
  language: 'zh',
  subject: 's',
  text: 't',
  html: 'h',
  sms: { template: 'reminder', params: { enterprise: '青澜热电', rule: '产治污不同步' }, text: '…' },
};
const config = {
  accessKeyId: 'testId',
  accessKeySecret: 'testSecret',
  signName: '青澜生态',
  templates: { reminder: 'SMS_100001' },
};

describe('Aliyun SMS client against a local endpoint', () => {
  it('sends a signed SendSms form the provider would verify, with OutId = notification id', async () => {
    const stub = await startStub((req) => {
      const p = Object.fromEntries(new URLSearchParams(req.body));
      const ok = p.Signature === popSignature('POST', p, 'testSecret');
      return {
        status: 200,
        body: JSON.stringify(
          ok
            ? { Code: 'OK', BizId: '9001^0', RequestId: 'r' }
            : { Code: 'SignatureDoesNotMatch', Message: 'bad' },
        ),
      };
    });
    try {
      const ch = createAliyunSmsChannel({ ...config, endpoint: stub.url }, silentLogger);
      const r = await ch.send(msg);
      expect(r).toMatchObject({ provider: 'aliyun-sms', providerMessageId: '9001^0' });
      const p = Object.fromEntries(new URLSearchParams(stub.requests[0]!.body));
      expect(stub.requests[0]!.method).toBe('POST');
      expect(p).toMatchObject({
        Action: 'SendSms',
        PhoneNumbers: '13800138000',
        SignName: '青澜生态',
        TemplateCode: 'SMS_100001',
        OutId: 'n-dev1-c3-sms-1',
        Version: '2017-05-25',
      });
      expect(JSON.parse(p.TemplateParam!)).toEqual(msg.sms.params);
      expect(p.Timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      // A wrong secret is rejected by the stub: the signature really is checked.
      const bad = createAliyunSmsChannel(
        { ...config, accessKeySecret: 'wrong', endpoint: stub.url },
        silentLogger,
      );
      await expect(bad.send(msg)).rejects.toMatchObject({ code: 'NOTIFY_PROVIDER_REJECTED', failover: true });
    } finally {
      await stub.close();
    }
  });

  it('classifies provider answers: invalid number is permanent, throttling retryable, 5xx unavailable', async () => {
    const answers = [
      { status: 200, body: JSON.stringify({ Code: 'isv.MOBILE_NUMBER_ILLEGAL', Message: 'bad number' }) },
      { status: 200, body: JSON.stringify({ Code: 'isv.BUSINESS_LIMIT_CONTROL', Message: 'slow down' }) },
      { status: 503, body: 'oops' },
      { status: 200, body: JSON.stringify({ Code: 'isv.SMS_TEMPLATE_ILLEGAL', Message: 'tpl' }) },
    ];
    let i = 0;
    const stub = await startStub(() => answers[i++]!);
    try {
      const ch = createAliyunSmsChannel({ ...config, endpoint: stub.url }, silentLogger);
      await expect(ch.send(msg)).rejects.toMatchObject({
        code: 'NOTIFY_INVALID_RECIPIENT',
        retryable: false,
        failover: false,
      });
      await expect(ch.send(msg)).rejects.toMatchObject({ code: 'NOTIFY_RATE_LIMITED', retryable: true });
      await expect(ch.send(msg)).rejects.toMatchObject({ code: 'NOTIFY_BAD_RESPONSE', retryable: true });
      await expect(ch.send(msg)).rejects.toMatchObject({ code: 'NOTIFY_CONTENT_REJECTED', retryable: false });
      await expect(ch.send({ ...msg, sms: { ...msg.sms, template: 'unknown' } })).rejects.toMatchObject({
        code: 'NOTIFY_CONTENT_REJECTED',
      });
    } finally {
      await stub.close();
    }
  });

  it('parses SmsReport receipts', () => {
    const r = parseAliyunReceipts(
      JSON.stringify([
        {
          phone_number: '13800138000',
          send_time: '2026-03-01 10:00:00',
          report_time: '2026-03-01 10:00:05',
          success: true,
          err_code: 'DELIVERED',
          err_msg: '用户接收成功',
          sms_size: '1',
          biz_id: '9001^0',
          out_id: 'n-1',
        },
        {
          phone_number: '13900139000',
          report_time: '2026-03-01 10:00:06',
          success: false,
          err_code: 'MK:0001',
          err_msg: '失败',
          biz_id: '9002^0',
        },
      ]),
    );
    expect(r[0]).toMatchObject({ providerMessageId: '9001^0', notificationId: 'n-1', delivered: true });
    expect(r[0]!.at.toISOString()).toBe('2026-03-01T02:00:05.000Z');
    expect(r[1]).toMatchObject({ delivered: false, errorCode: 'MK:0001' });
    expect(() => parseAliyunReceipts('{}')).toThrow(
      expect.objectContaining({ code: 'NOTIFY_RECEIPT_INVALID' }),
    );
  });
});
