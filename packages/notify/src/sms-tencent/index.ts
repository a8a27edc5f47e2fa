import type { Channel, DeliveryReceipt, Logger, OutgoingNotification, SendResult } from '../channel.js';
import { maskAddress } from '../channel.js';
import { configuredTemplate, NotifyError } from '../errors.js';
import { tc3Sign } from './sign.js';

export interface TencentSmsConfig {
  secretId: string;
  secretKey: string;
  smsSdkAppId: string;
  signName: string;
  /** Our template key → Tencent TemplateId and the order of its parameters ({1}, {2}, …). */
  templates: Record<string, { id: string; params: string[] }>;
  region?: string;
  /** Default https://sms.tencentcloudapi.com/ ; tests point it at a local server. */
  endpoint?: string;
  /** Host header that is signed; defaults to the endpoint's host. */
  host?: string;
  timeoutMs?: number;
  provider?: string;
  now?: () => Date;
}

export function classifyTencentCode(code: string, message: string): NotifyError {
  const d = { details: { providerCode: code } };
  if (
    code.startsWith('InvalidParameterValue.IncorrectPhoneNumber') ||
    code === 'FailedOperation.PhoneNumberInBlacklist' ||
    code === 'FailedOperation.PhoneNumberParseFail' ||
    code === 'UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber'
  )
    return new NotifyError('NOTIFY_INVALID_RECIPIENT', `${code}: ${message}`, d);
  if (
    code.startsWith('FailedOperation.TemplateIncorrectOrUnapproved') ||
    code.startsWith('FailedOperation.SignatureIncorrectOrUnapproved') ||
    code.startsWith('InvalidParameterValue.TemplateParameter') ||
    code === 'FailedOperation.ContainSensitiveWord' ||
    code === 'InvalidParameterValue.ContentLengthLimit' ||
    code === 'FailedOperation.MissingTemplateToModify'
  )
    return new NotifyError('NOTIFY_CONTENT_REJECTED', `${code}: ${message}`, d);
  if (code.startsWith('LimitExceeded') || code === 'RequestLimitExceeded')
    return new NotifyError('NOTIFY_RATE_LIMITED', `${code}: ${message}`, {
      ...d,
      retryable: true,
      failover: true,
    });
  if (code.startsWith('InternalError') || code === 'FailedOperation.FailResolvePacket')
    return new NotifyError('NOTIFY_PROVIDER_UNAVAILABLE', `${code}: ${message}`, {
      ...d,
      retryable: true,
      failover: true,
    });
  return new NotifyError('NOTIFY_PROVIDER_REJECTED', `${code}: ${message}`, { ...d, failover: true });
}

/** Tencent Cloud SMS SendSms (API 2021-01-11), TC3-signed JSON POST. SessionContext carries our notification id. */
export function createTencentSmsChannel(config: TencentSmsConfig, logger: Logger): Channel {
  const provider = config.provider ?? 'tencent-sms';
  const log = logger.child({ component: 'notify', provider });
  const endpoint = config.endpoint ?? 'https://sms.tencentcloudapi.com/';
  const host = config.host ?? new URL(endpoint).host;
  return {
    provider,
    kind: 'sms',
    async send(m: OutgoingNotification): Promise<SendResult> {
      const tpl = configuredTemplate(config.templates, m.sms.template, 'Tencent');
      const phone = m.to.address.startsWith('+') ? m.to.address : `+86${m.to.address}`;
      const payload = JSON.stringify({
        PhoneNumberSet: [phone],
        SmsSdkAppId: config.smsSdkAppId,
        SignName: config.signName,
        TemplateId: tpl.id,
        TemplateParamSet: tpl.params.map((p) => m.sms.params[p] ?? ''),
        SessionContext: m.id.slice(0, 512),
      });
      const timestamp = Math.floor((config.now?.() ?? new Date()).getTime() / 1000);
      const signed = tc3Sign({
        secretId: config.secretId,
        secretKey: config.secretKey,
        service: 'sms',
        host,
        timestamp,
        payload,
      });
      const started = Date.now();
      let res: Response;
      try {
        res = await fetch(endpoint, {
          method: 'POST',
          headers: {
            authorization: signed.authorization,
            'content-type': 'application/json; charset=utf-8',
            host,
            'x-tc-action': 'SendSms',
            'x-tc-version': '2021-01-11',
            'x-tc-timestamp': String(timestamp),
            'x-tc-region': config.region ?? 'ap-guangzhou',
          },
          body: payload,
          signal: AbortSignal.timeout(config.timeoutMs ?? 10_000),
        });
      } catch (err) {
        throw new NotifyError(
          'NOTIFY_PROVIDER_UNAVAILABLE',
          `Tencent SMS unreachable: ${(err as Error).message}`,
          {
            retryable: true,
            failover: true,
            cause: err,
          },
        );
      }
      type Answer = {
        Response?: {
          Error?: { Code: string; Message: string };
          SendStatusSet?: { SerialNo: string; Code: string; Message: string; PhoneNumber: string }[];
        };
      };
      let json: Answer;
      try {
        json = JSON.parse(await res.text()) as Answer;
      } catch (err) {
        throw new NotifyError(
          'NOTIFY_BAD_RESPONSE',
          `Tencent SMS answered HTTP ${res.status} with non-JSON`,
          {
            retryable: true,
            failover: true,
            cause: err,
          },
        );
      }
      const err = json.Response?.Error;
      if (err) throw classifyTencentCode(err.Code, err.Message);
      const status = json.Response?.SendStatusSet?.[0];
      if (!status) {
        throw new NotifyError('NOTIFY_BAD_RESPONSE', `Tencent SMS HTTP ${res.status} without SendStatusSet`, {
          retryable: res.status >= 500,
          failover: true,
        });
      }
      if (status.Code !== 'Ok') throw classifyTencentCode(status.Code, status.Message);
      const latencyMs = Date.now() - started;
      log.debug(
        { notificationId: m.id, to: maskAddress(m.to.address), serialNo: status.SerialNo, latencyMs },
        'sms accepted',
      );
      return { provider, providerMessageId: status.SerialNo, latencyMs };
    },
    async close() {},
  };
}

/** Parses Tencent's delivery-status callback (a JSON array of reports; answer `{"result":0,"errmsg":"OK"}`). */
export function parseTencentReceipts(body: string, provider = 'tencent-sms'): DeliveryReceipt[] {
  let list: unknown;
  try {
    list = JSON.parse(body);
  } catch (err) {
    throw new NotifyError('NOTIFY_RECEIPT_INVALID', 'Tencent receipt is not JSON', { cause: err });
  }
  if (!Array.isArray(list))
    throw new NotifyError('NOTIFY_RECEIPT_INVALID', 'Tencent receipt is not an array');
  return list.map((r: Record<string, unknown>, i) => {
    if (typeof r.sid !== 'string' || typeof r.mobile !== 'string' || typeof r.report_status !== 'string')
      throw new NotifyError(
        'NOTIFY_RECEIPT_INVALID',
        `Tencent receipt [${i}] lacks sid/mobile/report_status`,
      );
    const delivered = r.report_status === 'SUCCESS';
    const at =
      typeof r.user_receive_time === 'string'
        ? new Date(`${r.user_receive_time.replace(' ', 'T')}+08:00`)
        : new Date(NaN);
    return {
      provider,
      providerMessageId: r.sid,
      phone: r.mobile,
      delivered,
      ...(!delivered && typeof r.errmsg === 'string' ? { errorCode: r.errmsg } : {}),
      ...(!delivered && typeof r.description === 'string' ? { errorMessage: r.description } : {}),
      at,
    };
  });
}
