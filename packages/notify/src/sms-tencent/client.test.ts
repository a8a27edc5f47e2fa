import { silentLogger } from '@offsite/testing';
import { createTencentSmsChannel, parseTencentReceipts } from './index.js';
import { tc3Sign } from './sign.js';
import { startStub } from '../testing/http-stub.js';
import type { OutgoingNotification } from '../channel.js';

const msg: OutgoingNotification = {
  id: 'n-dev1-c3-sms-1',
  to: { address: '13800138000' },
  language: 'zh',
  subject: 's',
  text: 't',
  html: 'h',
  sms: {
    template: 'reminder',
    params: { enterprise: '青澜热电', rule: '产治污不同步', link: 'http://x/a' },
    text: '…',
  },
};
const config = {
  secretId: 'AKIDtest',
  secretKey: 'secret',
  smsSdkAppId: '1400000001',
  signName: '青澜生态',
  templates: { reminder: { id: '100001', params: ['enterprise', 'rule', 'link'] } },
  now: () => new Date('2026-03-01T02:00:00Z'),
};

describe('Tencent SMS client against a local endpoint', () => {
  it('sends a TC3-signed SendSms the provider would verify', async () => {
    const stub = await startStub((req) => {
      const ts = Number(req.headers['x-tc-timestamp']);
      const expected = tc3Sign({
        secretId: 'AKIDtest',
        secretKey: 'secret',
        service: 'sms',
        host: String(req.headers.host),
        timestamp: ts,
        payload: req.body,
      });
      if (req.headers.authorization !== expected.authorization)
        return {
          status: 200,
          body: JSON.stringify({
            Response: { Error: { Code: 'AuthFailure.SignatureFailure', Message: 'bad' }, RequestId: 'r' },
          }),
        };
      return {
        status: 200,
        body: JSON.stringify({
          Response: {
            SendStatusSet: [
              { SerialNo: '2645:1', PhoneNumber: '+8613800138000', Code: 'Ok', Message: 'send success' },
            ],
            RequestId: 'r',
          },
        }),
      };
    });
    try {
      const ch = createTencentSmsChannel({ ...config, endpoint: stub.url }, silentLogger);
      expect(await ch.send(msg)).toMatchObject({ provider: 'tencent-sms', providerMessageId: '2645:1' });
      const req = stub.requests[0]!;
      expect(req.headers['x-tc-action']).toBe('SendSms');
      expect(req.headers['x-tc-version']).toBe('2021-01-11');
      expect(req.headers['x-tc-timestamp']).toBe(String(Date.parse('2026-03-01T02:00:00Z') / 1000));
      expect(JSON.parse(req.body)).toEqual({
        PhoneNumberSet: ['+8613800138000'],
        SmsSdkAppId: '1400000001',
        SignName: '青澜生态',
        TemplateId: '100001',
        TemplateParamSet: ['青澜热电', '产治污不同步', 'http://x/a'],
        SessionContext: 'n-dev1-c3-sms-1',
      });
      const bad = createTencentSmsChannel(
        { ...config, secretKey: 'wrong', endpoint: stub.url },
        silentLogger,
      );
      await expect(bad.send(msg)).rejects.toMatchObject({ code: 'NOTIFY_PROVIDER_REJECTED', failover: true });
    } finally {
      await stub.close();
    }
  });

  it('classifies per-number and request errors', async () => {
    const answers = [
      {
        Response: {
          SendStatusSet: [
            {
              SerialNo: '',
              PhoneNumber: '+86',
              Code: 'InvalidParameterValue.IncorrectPhoneNumber',
              Message: 'x',
            },
          ],
        },
      },
      { Response: { Error: { Code: 'LimitExceeded.PhoneNumberThirtySecondLimit', Message: 'x' } } },
      { Response: { Error: { Code: 'FailedOperation.TemplateIncorrectOrUnapproved', Message: 'x' } } },
      { Response: { Error: { Code: 'InternalError.Timeout', Message: 'x' } } },
    ];
    let i = 0;
    const stub = await startStub(() => ({ status: 200, body: JSON.stringify(answers[i++]) }));
    try {
      const ch = createTencentSmsChannel({ ...config, endpoint: stub.url }, silentLogger);
      await expect(ch.send(msg)).rejects.toMatchObject({
        code: 'NOTIFY_INVALID_RECIPIENT',
        retryable: false,
        failover: false,
      });
      await expect(ch.send(msg)).rejects.toMatchObject({ code: 'NOTIFY_RATE_LIMITED', retryable: true });
      await expect(ch.send(msg)).rejects.toMatchObject({ code: 'NOTIFY_CONTENT_REJECTED', retryable: false });
      await expect(ch.send(msg)).rejects.toMatchObject({
        code: 'NOTIFY_PROVIDER_UNAVAILABLE',
        retryable: true,
      });
    } finally {
      await stub.close();
    }
  });

  it('parses delivery-status callbacks', () => {
    const r = parseTencentReceipts(
      JSON.stringify([
        {
          user_receive_time: '2026-03-01 10:00:05',
          nationcode: '86',
          mobile: '13800138000',
          report_status: 'SUCCESS',
          errmsg: 'DELIVRD',
          description: '用户短信送达成功',
          sid: '2645:1',
        },
        {
          user_receive_time: '2026-03-01 10:00:06',
          nationcode: '86',
          mobile: '13900139000',
          report_status: 'FAIL',
          errmsg: 'MK:0005',
          description: '失败',
          sid: '2645:2',
        },
      ]),
    );
    expect(r[0]).toMatchObject({ providerMessageId: '2645:1', delivered: true });
    expect(r[0]!.errorCode).toBeUndefined();
    expect(r[1]).toMatchObject({ delivered: false, errorCode: 'MK:0005', errorMessage: '失败' });
    expect(r[1]!.at.toISOString()).toBe('2026-03-01T02:00:06.000Z');
  });
});
