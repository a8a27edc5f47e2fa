// A user's text message to the official account is a complaint, and every complaint is the console's: the
// alerter (owner of the account's callback) passes each one on as complaint.intake.v1 and answers WeChat
// only after Kafka acknowledged it. The id comes from the account and WeChat's MsgId, so a message WeChat
// pushes again is the same event (the console records each id once).
import { validateComplaintIntakeV1, type ComplaintIntakeV1 } from '@offsite/contracts';
import type { WechatPush } from '@offsite/notify';
import { WechatTextRefused } from './wechat-callback.js';

/** The complaint.intake.v1 event of a text message, or a refusal naming the field that is out of shape. */
export function complaintOfText(m: Extract<WechatPush, { kind: 'text' }>): ComplaintIntakeV1 {
  const event: ComplaintIntakeV1 = {
    schema: 'complaint.intake.v1',
    id: `wechat:${m.account}:${m.msgId}`,
    channel: 'wechat',
    account: m.account,
    source: m.openid,
    sourceMessageId: m.msgId,
    text: m.content.trim(),
    receivedAt: m.at.toISOString(),
  };
  const v = validateComplaintIntakeV1(event);
  if (v.ok) return event;
  const field = /\/(\w+)/.exec(v.errors[0] ?? '')?.[1] ?? 'message';
  if (field === 'text')
    throw new WechatTextRefused(
      'wechat-message-invalid',
      `Content: ${v.errors.join('; ')} / 留言内容为空或超过4000字`,
      '您的留言为空或超过4000字，未能受理。请精简后分条发送。',
    );
  throw new WechatTextRefused(
    'wechat-message-invalid',
    `${field}: ${v.errors.join('; ')} / 消息字段 ${field} 不符合要求`,
    '您的留言未能受理，请稍后再试或拨打环保热线12369。',
  );
}

/** The callback's `onText`: resolves once Kafka acknowledged the event (acks = all). */
export function createComplaintHandoff(
  publish: (e: ComplaintIntakeV1) => Promise<void>,
  counted?: (outcome: 'passed-on' | 'refused' | 'failed') => void,
): (m: Extract<WechatPush, { kind: 'text' }>) => Promise<void> {
  return async (m) => {
    let event: ComplaintIntakeV1;
    try {
      event = complaintOfText(m);
    } catch (err) {
      counted?.('refused');
      throw err;
    }
    try {
      await publish(event);
    } catch (err) {
      counted?.('failed');
      throw err;
    }
    counted?.('passed-on');
  };
}
