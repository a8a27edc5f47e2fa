import { renderReminder, type ReminderModel } from './templates.js';
import { smsSegments } from './sms-segments.js';

const base: ReminderModel = {
  kind: 'reminder',
  round: 1,
  bureau: { zh: '青澜市生态环境局', en: 'Qinglan Ecology and Environment Bureau' },
  enterprise: { zh: '青澜热电有限公司', en: 'Qinglan Thermal Power Co.' },
  recipientName: '王经理',
  items: [
    {
      rule: 'treatment-idle',
      severity: 'high',
      facility: { zh: '1号脱硫塔电表', en: 'No.1 desulphurisation meter' },
      openedAt: new Date('2026-03-01T02:15:00Z'),
      evidence: [
        { time: new Date('2026-03-01T02:00:00Z'), factor: 'energy', stat: 'Value', value: 0.4, limit: 12 },
      ],
      summary: 'treatment below 10% of rated',
    },
  ],
  resumption: { date: '2026-02-20' },
  ackUrl: 'http://127.0.0.1:9106/ack?t=abc',
  ackExpiresAt: new Date('2026-03-02T02:15:00Z'),
};

describe('reminder templates', () => {
  it('says the enterprise is resuming work, names the facility and the evidence, in Chinese', () => {
    const r = renderReminder(base, 'zh', { smsSignName: '青澜生态' });
    expect(r.subject).toBe('【青澜市生态环境局】提醒：青澜热电有限公司产治污不同步（治污设施未运行）');
    expect(r.text).toContain('复工复产过渡期');
    expect(r.text).toContain('2026-02-20');
    expect(r.text).toContain('1号脱硫塔电表');
    expect(r.text).toContain('2026-03-01 10:00 energy Value=0.4，限值 12');
    expect(r.text).toContain('自 2026-03-01 10:15 起');
    expect(r.text).toContain('http://127.0.0.1:9106/ack?t=abc');
    expect(r.html).toContain('<a href="http://127.0.0.1:9106/ack?t=abc">');
    expect(r.sms.text).toContain('复工复产期');
    expect(r.sms.template).toBe('reminder-resumption');
    expect(smsSegments(`【青澜生态】${r.sms.text}`)).toBeLessThanOrEqual(2);
  });

  it('renders English and escapes HTML', () => {
    const r = renderReminder({ ...base, enterprise: { zh: '甲', en: 'A<b>' }, round: 2 }, 'en');
    expect(r.subject).toBe(
      '[Qinglan Ecology and Environment Bureau] Reminder #2: A<b> — treatment idle while producing',
    );
    expect(r.html).toContain('A&#60;b&#62;');
    expect(r.html).not.toContain('A<b>');
    expect(r.text).toContain('resumption window');
  });

  it('supervisor alerts never carry the resumption sentence or an acknowledgement link for the enterprise', () => {
    const r = renderReminder({ ...base, kind: 'supervisor-alert', ackUrl: undefined }, 'zh');
    expect(r.subject).toContain('疑似数据造假');
    expect(r.text).not.toContain('复工复产过渡期');
    expect(r.text).not.toContain('/ack');
  });
});

it('never cuts the acknowledgement link out of an SMS, and states resumption without a known date', () => {
  const link = `http://127.0.0.1:9106/ack?t=${'x'.repeat(150)}`;
  const r = renderReminder(
    {
      ...base,
      resumption: {},
      ackUrl: link,
      items: [{ ...base.items[0]!, facility: { zh: '设'.repeat(120) } }],
    },
    'zh',
    { smsSignName: '青澜生态' },
  );
  expect(r.sms.text.endsWith(link)).toBe(true);
  expect(r.sms.text).toContain('…');
  expect(smsSegments(`【青澜生态】${r.sms.text}`)).toBeLessThanOrEqual(4);
  expect(r.text).toContain('贵单位目前处于复工复产过渡期');
});
