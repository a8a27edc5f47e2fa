/**
 * Screenshot of the console's review queue after a demo run (for the README): logs in as the demo
 * supervisor with headless Debian Chromium (the flags of the console's browser test) and saves the
 * queue page once it lists cases.
 *
 * Usage: screenshot.ts <console base URL> <credentials file> <output .png>
 * Environment: OFFSITE_CHROMIUM (default /usr/bin/chromium).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';

const [base, credentialsPath, outPath] = process.argv.slice(2);
if (!base || !credentialsPath || !outPath) {
  process.stderr.write('usage: screenshot.ts <console base URL> <credentials file> <output .png>\n');
  process.exit(64);
}
const cred = await readFile(credentialsPath, 'utf8');
const username = /^username=(\S+)$/m.exec(cred)?.[1] ?? 'supervisor';
const password = /^supervisor=(\S+)$/m.exec(cred)?.[1];
if (!password) {
  process.stderr.write(`no supervisor= line in ${credentialsPath}\n`);
  process.exit(78);
}
const profile = mkdtempSync(join(tmpdir(), 'offsite-demo-chromium-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.OFFSITE_CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1440, height: 900 },
  locale: 'zh-CN',
  timezoneId: 'Asia/Shanghai',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  const page = await browser.newPage();
  await page.goto(base);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.locator('[data-test=queue] tbody tr').first().waitFor({ timeout: 30_000 });
  const rows = await page.locator('[data-test=queue] tbody tr').count();
  await mkdir(dirname(outPath), { recursive: true });
  await page.screenshot({ path: outPath });
  process.stdout.write(`${JSON.stringify({ screenshot: outPath, queueRows: rows })}\n`);
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
