import { simpleParser } from 'mailparser';
import { buildMime, encodeWords, formatAddress } from './mime.js';

const zhSubject =
  '【青澜市生态环境局】提醒：青澜市某某化工有限公司产治污不同步（治污设施未运行），请于24小时内核查并反馈';

describe('buildMime', () => {
  it('folds an ASCII subject or display name too long for one header line', async () => {
    const long = Array.from({ length: 150 }, (_, i) => `word${i}`).join(' '); // ~1,000 characters
    const raw = buildMime({
      from: { address: 'noreply@qinglan.example', name: long },
      to: { address: 'ops@example.com' },
      subject: long,
      text: 't',
      html: '<p>t</p>',
      messageId: '<long@alerter.offsite>',
    });
    const lines = raw.toString('utf8').split('\r\n');
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(998);
    const m = await simpleParser(raw);
    expect(m.subject).toBe(long);
    expect(m.from?.value).toEqual([{ address: 'noreply@qinglan.example', name: long }]);
  });

  it('round-trips Chinese names, subject, text and HTML through a real MIME parser', async () => {
    const raw = buildMime({
      from: { address: 'noreply@qinglan.example', name: '青澜市生态环境局' },
      to: { address: 'wang.jingli.env-manager@qinglan-chemical-industry-park.example', name: '王经理' },
      subject: zhSubject,
      text: '王经理：您好！\n请立即核查治污设施运行情况。\n确认链接：http://127.0.0.1:8090/ack?t=abc',
      html: '<p>王经理：您好！</p><p>请立即核查治污设施运行情况。</p>',
      messageId: '<grp.c1.email.r1@alerter.offsite>',
      date: new Date('2026-03-01T02:30:00Z'),
      headers: { 'X-Offsite-Notification-Id': 'grp.c1.email.r1', 'Content-Language': 'zh-CN' },
    });
    const m = await simpleParser(raw);
    expect(m.subject).toBe(zhSubject);
    expect(m.from?.value).toEqual([{ address: 'noreply@qinglan.example', name: '青澜市生态环境局' }]);
    expect(Array.isArray(m.to) ? m.to : m.to?.value).toEqual([
      { address: 'wang.jingli.env-manager@qinglan-chemical-industry-park.example', name: '王经理' },
    ]);
    expect(m.text).toBe(
      '王经理：您好！\n请立即核查治污设施运行情况。\n确认链接：http://127.0.0.1:8090/ack?t=abc',
    );
    expect(m.html).toBe('<p>王经理：您好！</p><p>请立即核查治污设施运行情况。</p>');
    expect(m.messageId).toBe('<grp.c1.email.r1@alerter.offsite>');
    expect(m.date?.toISOString()).toBe('2026-03-01T02:30:00.000Z');
    expect(m.headers.get('x-offsite-notification-id')).toBe('grp.c1.email.r1');
    expect(m.headers.get('content-language')).toBe('zh-CN');
    expect(m.headers.get('mime-version')).toBe('1.0');
    // CRLF only, no line over 78 characters, nothing after the closing boundary.
    const s = raw.toString('utf8');
    expect(s.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(Math.max(...s.split('\r\n').map((l) => l.length))).toBeLessThanOrEqual(78);
    expect(s).toMatch(/--=_offsite_[0-9a-f]{24}--\r\n$/);
  });

  it('cannot be made to start a header field or break an address by its input', async () => {
    const raw = buildMime({
      from: { address: 'a@b.example', name: 'Bureau "Q" \\ Ops' },
      to: { address: 'x@y.example\r\nBcc: evil@z.example', name: 'X\r\nBcc: evil@z.example' },
      subject: 'hello\r\nBcc: evil@z.example',
      text: 't',
      html: 'h',
      messageId: '<m@d>',
    });
    const m = await simpleParser(raw);
    expect(m.bcc).toBeUndefined();
    expect(m.subject).toBe('hello Bcc: evil@z.example');
    expect(m.from?.value[0]?.name).toBe('Bureau "Q" \\ Ops');
  });

  it('splits encoded words between characters and leaves ASCII alone', () => {
    expect(encodeWords('Reminder')).toBe('Reminder');
    const words = encodeWords('青'.repeat(40)).split('\r\n ');
    expect(words).toHaveLength(4); // 120 bytes, at most 39 (13 characters) per word
    for (const w of words) expect(Buffer.from(w.slice(10, -2), 'base64').toString('utf8')).toMatch(/^青+$/);
    expect(formatAddress({ address: 'a@b.c' })).toBe('a@b.c');
  });
});
