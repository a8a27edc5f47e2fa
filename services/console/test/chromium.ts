// Chromium (playwright-core) for the console's browser tests: a headless persistent context on a fresh
// temporary profile, a login through the page's own form, and a page suite's common set-up.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createWorld, PASSWORD, type World } from './fixture.js';

const CHROMIUM = process.env.OFFSITE_CHROMIUM ?? '/usr/bin/chromium';

export interface Chromium {
  browser: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(opts: { acceptDownloads?: boolean } = {}): Promise<Chromium> {
  const profile = mkdtempSync(join(tmpdir(), 'offsite-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1366, height: 768 },
    locale: 'zh-CN',
    ...(opts.acceptDownloads ? { acceptDownloads: true } : {}),
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
  return {
    browser,
    async close() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A new page logged in as `username` (cookies of earlier logins cleared). */
export async function loginPage(browser: BrowserContext, base: string, username: string): Promise<Page> {
  await browser.clearCookies();
  const page = await browser.newPage();
  await page.goto(base + '/');
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-test=whoami]');
  return page;
}

/** Where the browser tests leave their screenshots. */
export const SHOTS = fileURLToPath(new URL('../test-output/', import.meta.url));

export interface PageSuite {
  /** Set in beforeAll. */
  w: World;
  chromium: Chromium;
  /** Every Content-Security-Policy complaint of the pages (the app runs under its own CSP). */
  readonly cspMessages: string[];
}

/** A page test file's set-up: a fresh world seeded by `seed`, Chromium, the pages' CSP complaints. */
export function pageSuite(seed: (w: World) => Promise<void>): PageSuite {
  const suite = { cspMessages: [] as string[] } as PageSuite;
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    suite.w = await createWorld();
    await seed(suite.w);
    suite.chromium = await launchChromium();
    suite.chromium.browser.on('console', (m) => {
      if (m.text().includes('Content Security Policy')) suite.cspMessages.push(m.text());
    });
  });
  afterAll(async () => {
    await suite.chromium?.close();
    await suite.w?.close();
  });
  return suite;
}
