// The delivery channels the environment configures: email by SMTP or into the outbox directory, SMS
// by the configured providers in failover order (the outbox when none), WeChat template messages by
// the configured official account (the outbox when none), and the plain outbox.
import path from 'node:path';
import {
  createAliyunSmsChannel,
  createEmailChannel,
  createOutboxChannel,
  createTencentSmsChannel,
  createWechatChannel,
  type Channel,
  type Logger,
} from '@offsite/notify';
import { parsePairs, parseWechatTemplates, type AlerterConfig } from './config.js';

export interface Channels {
  email: Channel;
  sms: Channel[];
  wechat: Channel;
  outbox: Channel;
}

export function createChannels(env: AlerterConfig, logger: Logger): Channels {
  const outboxDir = path.resolve(env.OFFSITE_ALERTER_OUTBOX_DIR);
  const email: Channel =
    env.OFFSITE_ALERTER_EMAIL_TRANSPORT === 'smtp'
      ? createEmailChannel(
          {
            host: env.OFFSITE_SMTP_HOST,
            port: env.OFFSITE_SMTP_PORT,
            secure: env.OFFSITE_SMTP_SECURE,
            ...(env.OFFSITE_SMTP_USER
              ? { auth: { user: env.OFFSITE_SMTP_USER, pass: env.OFFSITE_SMTP_PASSWORD } }
              : {}),
            from: { address: env.OFFSITE_ALERTER_MAIL_FROM, name: env.OFFSITE_ALERTER_MAIL_FROM_NAME },
            messageIdDomain: env.OFFSITE_ALERTER_MESSAGE_ID_DOMAIN,
            maxConnections: env.OFFSITE_SMTP_MAX_CONNECTIONS,
            maxMessages: env.OFFSITE_SMTP_MAX_MESSAGES,
          },
          logger,
        )
      : createOutboxChannel(
          { dir: path.join(outboxDir, 'email'), as: 'email', provider: 'outbox-email' },
          logger,
        );
  const sms: Channel[] = env.OFFSITE_ALERTER_SMS_PROVIDERS.map((p) =>
    p === 'aliyun'
      ? createAliyunSmsChannel(
          {
            accessKeyId: env.OFFSITE_ALIYUN_SMS_ACCESS_KEY_ID,
            accessKeySecret: env.OFFSITE_ALIYUN_SMS_ACCESS_KEY_SECRET,
            signName: env.OFFSITE_ALIYUN_SMS_SIGN_NAME,
            templates: parsePairs(env.OFFSITE_ALIYUN_SMS_TEMPLATES),
            endpoint: env.OFFSITE_ALIYUN_SMS_ENDPOINT,
          },
          logger,
        )
      : createTencentSmsChannel(
          {
            secretId: env.OFFSITE_TENCENT_SMS_SECRET_ID,
            secretKey: env.OFFSITE_TENCENT_SMS_SECRET_KEY,
            smsSdkAppId: env.OFFSITE_TENCENT_SMS_APP_ID,
            signName: env.OFFSITE_TENCENT_SMS_SIGN_NAME,
            templates: Object.fromEntries(
              Object.entries(parsePairs(env.OFFSITE_TENCENT_SMS_TEMPLATES)).map(([k, v]) => {
                const [id, params] = v.split(':');
                return [k, { id: id!, params: (params ?? '').split('|').filter(Boolean) }];
              }),
            ),
            endpoint: env.OFFSITE_TENCENT_SMS_ENDPOINT,
          },
          logger,
        ),
  );
  if (sms.length === 0)
    sms.push(
      createOutboxChannel({ dir: path.join(outboxDir, 'sms'), as: 'sms', provider: 'outbox-sms' }, logger),
    );
  const wechat = env.OFFSITE_WECHAT_APP_ID
    ? createWechatChannel(
        {
          appId: env.OFFSITE_WECHAT_APP_ID,
          appSecret: env.OFFSITE_WECHAT_APP_SECRET,
          templates: parseWechatTemplates(env.OFFSITE_WECHAT_TEMPLATES),
          baseUrl: env.OFFSITE_WECHAT_BASE_URL,
        },
        logger,
      )
    : createOutboxChannel(
        { dir: path.join(outboxDir, 'wechat'), as: 'sms', provider: 'outbox-wechat' },
        logger,
      );
  const outbox = createOutboxChannel(
    { dir: path.join(outboxDir, 'outbox'), as: 'email', provider: 'outbox' },
    logger,
  );
  return { email, sms, wechat, outbox };
}
