import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readSinkHeads, readSinkMails, scanHeaders } from './mail.js';

const message = (to: string, mid: string) =>
  [
    'From: =?UTF-8?B?6Z2S5r6c5biC55Sf5oCB546v5aKD5bGA?= <noreply@qinglan.example>',
    `To: =?UTF-8?B?546L57uP55CG?= <${to}>`,
    'Subject: =?UTF-8?B?5o+Q6YaS?=',
    `Message-ID: ${mid}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from('请立即核查。').toString('base64'),
    '',
  ].join('\r\n');

describe('the SMTP sink inbox reader', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sink-reader-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('takes envelope recipients from Delivered-To and parses only the mails kept', async () => {
    await writeFile(
      path.join(dir, '20260301T000000000Z-a.eml'),
      `Return-Path: <noreply@qinglan.example>\r\nDelivered-To: wang@a.example\r\nDelivered-To: li@a.example\r\n${message('wang@a.example', '<n1@x.offsite>')}`,
    );
    await writeFile(path.join(dir, '20260301T000000001Z-b.eml'), message('zhao@b.example', '<n2@x.offsite>'));
    await writeFile(path.join(dir, '.20260301T000000002Z-c.eml.tmp'), 'being written');
    await writeFile(path.join(dir, '20260301T000000000Z-a.json'), '{}');

    const heads = await readSinkHeads(dir);
    expect(heads.map((h) => [h.recipients, h.messageId])).toEqual([
      [['wang@a.example', 'li@a.example'], '<n1@x.offsite>'],
      // a mail stored by the previous sink (no Delivered-To): the To header's address
      [['zhao@b.example'], '<n2@x.offsite>'],
    ]);

    const got = await readSinkMails(dir, (h) => h.recipients.some((a) => a.endsWith('@a.example')));
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({
      to: ['wang@a.example'],
      subject: '提醒',
      messageId: '<n1@x.offsite>',
    });
    expect(got[0]!.text?.trim()).toBe('请立即核查。');
    expect(got[0]!.headers['return-path']).toBeDefined();
  });

  it('unfolds header lines and keeps repeated fields', () => {
    const h = scanHeaders(Buffer.from('Subject: a\r\n b\r\nX-A: 1\r\nx-a: 2\r\n\r\nbody: no\r\n'));
    expect(h.get('subject')).toEqual(['a b']);
    expect(h.get('x-a')).toEqual(['1', '2']);
    expect(h.has('body')).toBe(false);
  });
});
