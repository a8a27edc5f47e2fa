import { randomUUID } from 'node:crypto';
import type { Channel, DeliveryReceipt, Logger, OutgoingNotification, SendResult } from '../channel.js';
import { maskAddress } from '../channel.js';
import { configuredTemplate, NotifyError } from '../errors.js';
import { canonicalQuery, popEncode, popSignature } from './sign.js';

export interface AliyunSmsConfig {
  accessKeyId: string;
  accessKeySecret: string;
  signName: string;
  /** Our template key (reminder, escalation, …) → Aliyun TemplateCode (SMS_xxx). */
  templates: Record<string, string>;
  /** Default https://dysmsapi.aliyuncs.com/ ; tests point it at a local server. */
  endpoint?: string;
  regionId?: string;
  timeoutMs?: number;
  provider?: string;
  /** For tests: fixed clock and nonce. */
  now?: () => Date;
  nonce?: () => string;
}

const PERMANENT_RECIPIENT = new Set([
  'isv.MOBILE_NUMBER_ILLEGAL',
  'isv.MOBILE_COUNT_OVER_LIMIT',
  'isv.BLACK_KEY_CONTROL_LIMIT',
  'isv.DAY_LIMIT_CONTROL',
]);
const PERMANENT_CONTENT = new Set([
  'isv.SMS_TEMPLATE_ILLEGAL',
  'isv.TEMPLATE_MISSING_PARAMETERS',
  'isv.INVALID_PARAMETERS',
  'isv.SMS_SIGNATURE_ILLEGAL',
  'isv.PARAM_LENGTH_LIMIT',
  'isv.INVALID_JSON_PARAM',
  'isv.TEMPLATE_PARAMS_ILLEGAL',
]);
const RATE = new Set(['isv.BUSINESS_LIMIT_CONTROL', 'Throttling.User']);

export function classifyAliyunCode(code: string, message: string): NotifyError {
  if (PERMANENT_RECIPIENT.has(code))
    return new NotifyError('NOTIFY_INVALID_RECIPIENT', `${code}: ${message}`, {
      details: { providerCode: code },
    });
  if (PERMANENT_CONTENT.has(code))
    return new NotifyError('NOTIFY_CONTENT_REJECTED', `${code}: ${message}`, {
      details: { providerCode: code },
    });
  if (RATE.has(code))
    return new NotifyError('NOTIFY_RATE_LIMITED', `${code}: ${message}`, {
      retryable: true,
      failover: true,
      details: { providerCode: code },
    });
  if (code.startsWith('isp.') || code === 'ServiceUnavailable')
    return new NotifyError('NOTIFY_PROVIDER_UNAVAILABLE', `${code}: ${message}`, {
      retryable: true,
      failover: true,
      details: { providerCode: code },
    });
  return new NotifyError('NOTIFY_PROVIDER_REJECTED', `${code}: ${message}`, {
    failover: true,
    details: { providerCode: code },
  });
}

/** Aliyun SMS SendSms (API 2017-05-25) as a signed RPC request (POST form). OutId carries our notification id. */
export function createAliyunSmsChannel(config: AliyunSmsConfig, logger: Logger): Channel {
  const provider = config.provider ?? 'aliyun-sms';
  const log = logger.child({ component: 'notify', provider });
  const endpoint = config.endpoint ?? 'https://dysmsapi.aliyuncs.com/';
  return {
    provider,
    kind: 'sms',
    async send(m: OutgoingNotification): Promise<SendResult> {
      const templateCode = configuredTemplate(config.templates, m.sms.template, 'Aliyun');
      const params: Record<string, string> = {
        AccessKeyId: config.accessKeyId,
        Action: 'SendSms',
        Format: 'JSON',
        OutId: m.id.slice(0, 256),
        PhoneNumbers: m.to.address.replace(/^\+86/, ''),
        RegionId: config.regionId ?? 'cn-hangzhou',
        SignName: config.signName,
        SignatureMethod: 'HMAC-SHA1',
        SignatureNonce: config.nonce?.() ?? randomUUID(),
        SignatureVersion: '1.0',
        TemplateCode: templateCode,
        TemplateParam: JSON.stringify(m.sms.params),
        Timestamp: (config.now?.() ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        Version: '2017-05-25',
      };
      const body = `Signature=${popEncode(popSignature('POST', params, config.accessKeySecret))}&${canonicalQuery(params)}`;
      const started = Date.now();
      let res: Response;
      try {
        res = await fetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body,
          signal: AbortSignal.timeout(config.timeoutMs ?? 10_000),
        });
      } catch (err) {
        throw new NotifyError(
          'NOTIFY_PROVIDER_UNAVAILABLE',
          `Aliyun SMS unreachable: ${(err as Error).message}`,
          {
            retryable: true,
            failover: true,
            cause: err,
          },
        );
      }
      const raw = await res.text();
      let json: { Code?: string; Message?: string; BizId?: string; RequestId?: string };
      try {
        json = JSON.parse(raw) as typeof json;
      } catch (err) {
        throw new NotifyError('NOTIFY_BAD_RESPONSE', `Aliyun SMS answered HTTP ${res.status} with non-JSON`, {
          retryable: true,
          failover: true,
          cause: err,
        });
      }
      if (json.Code === 'OK' && json.BizId) {
        const latencyMs = Date.now() - started;
        log.debug(
          { notificationId: m.id, to: maskAddress(m.to.address), bizId: json.BizId, latencyMs },
          'sms accepted',
        );
        return { provider, providerMessageId: json.BizId, latencyMs };
      }
      if (!json.Code && res.status >= 500)
        throw new NotifyError('NOTIFY_PROVIDER_UNAVAILABLE', `Aliyun SMS HTTP ${res.status}`, {
          retryable: true,
          failover: true,
        });
      throw classifyAliyunCode(json.Code ?? `http.${res.status}`, json.Message ?? '');
    },
    async close() {},
  };
}

/**
 * Parses Aliyun's SmsReport callback body (a JSON array; the provider expects `{"code":0}` back).
 */
export function parseAliyunReceipts(body: string, provider = 'aliyun-sms'): DeliveryReceipt[] {
  let list: unknown;
  try {
    list = JSON.parse(body);
  } catch (err) {
    throw new NotifyError('NOTIFY_RECEIPT_INVALID', 'Aliyun receipt is not JSON', { cause: err });
  }
  if (!Array.isArray(list)) throw new NotifyError('NOTIFY_RECEIPT_INVALID', 'Aliyun receipt is not an array');
  return list.map((r: Record<string, unknown>, i) => {
    if (typeof r.biz_id !== 'string' || typeof r.phone_number !== 'string' || typeof r.success !== 'boolean')
      throw new NotifyError(
        'NOTIFY_RECEIPT_INVALID',
        `Aliyun receipt [${i}] lacks biz_id/phone_number/success`,
      );
    const at =
      typeof r.report_time === 'string'
        ? new Date(`${r.report_time.replace(' ', 'T')}+08:00`)
        : new Date(NaN);
    return {
      provider,
      providerMessageId: r.biz_id,
      ...(typeof r.out_id === 'string' && r.out_id ? { notificationId: r.out_id } : {}),
      phone: r.phone_number,
      delivered: r.success,
      ...(typeof r.err_code === 'string' && r.err_code !== 'DELIVERED' ? { errorCode: r.err_code } : {}),
      ...(typeof r.err_msg === 'string' && !r.success ? { errorMessage: r.err_msg } : {}),
      at,
    };
  });
}
