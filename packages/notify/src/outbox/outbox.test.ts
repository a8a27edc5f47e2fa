import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger } from '@offsite/testing';
import { createOutboxChannel } from './index.js';
import type { OutgoingNotification } from '../channel.js';

const msg: OutgoingNotification = {
  id: 'n:dev-1:contact-3:sms:1',
  to: { address: '13800138000' },
  language: 'zh',
  subject: '提醒',
  text: '正文',
  html: '<p>正文</p>',
  sms: { template: 'reminder', params: { enterprise: '甲' }, text: '甲公司治污设施未运行' },
};

describe('outbox channel', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'outbox-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes one JSON and one rendered text per message, once per id', async () => {
    const ch = createOutboxChannel({ dir, as: 'sms' }, silentLogger);
    const a = await ch.send(msg);
    const b = await ch.send(msg);
    expect(b.providerMessageId).toBe(a.providerMessageId);
    const files = (await readdir(dir)).sort();
    expect(files).toEqual(['n_dev-1_contact-3_sms_1.json', 'n_dev-1_contact-3_sms_1.txt']);
    expect(await readFile(path.join(dir, files[1]!), 'utf8')).toBe('甲公司治污设施未运行\n');
    const json = JSON.parse(await readFile(path.join(dir, files[0]!), 'utf8')) as { notificationId: string };
    expect(json.notificationId).toBe(msg.id);
  });

  it('writes an .eml with a UTF-8 subject when standing in for email', async () => {
    const ch = createOutboxChannel({ dir, as: 'email' }, silentLogger);
    await ch.send({ ...msg, id: 'e1' });
    const raw = await readFile(path.join(dir, 'e1.eml'), 'utf8');
    expect(raw).toContain(`Subject: =?UTF-8?B?${Buffer.from('提醒').toString('base64')}?=`);
    expect(Buffer.from(raw.split('\r\n\r\n')[1]!.replace(/\r\n/g, ''), 'base64').toString('utf8')).toBe(
      '正文',
    );
  });
});
