// Registry positions edited in the console, on real Postgres and in Chromium: a position inside the
// configured city bounds is applied (audited, marked as a console edit the next import reports); one outside
// the city, out of range or half given is refused with a bilingual field-named error and nothing saved;
// another district's enterprise is 404 and an enterprise user cannot edit it. The page shows the refusal
// under the field, and axe finds no serious violation on the open form.
import { join } from 'node:path';
import { importRegistry } from '@offsite/store';
import { silentLogger } from '@offsite/testing';
import { describeViolations, seriousViolations } from './axe.js';
import { launchChromium, loginPage, SHOTS, type Chromium } from './chromium.js';
import { createWorld, examplePath, loginAs, sendAs, type Session, type World } from './fixture.js';

const cityBounds = { south: 30.1, west: 120, north: 30.5, east: 120.5 };
let w: World;
let chromium: Chromium;
beforeAll(async () => {
  w = await createWorld({ registryEdit: { maintenanceApprovalHours: 24, cityBounds } });
  chromium = await launchChromium();
});
afterAll(async () => {
  await chromium?.close();
  await w?.close();
});

interface Answer {
  state?: string;
  field?: string;
  message?: string;
  latitude?: number | null;
  longitude?: number | null;
  outlets?: { id: string; latitude: number | null; longitude: number | null }[];
}
const put = (s: Session, enterprise: string, body: object) =>
  sendAs<Answer>(w.base, s, 'PUT', `/api/enterprises/${enterprise}/location`, body);
const one = async (sql: string, params: unknown[] = []) => (await w.pool.query(sql, params)).rows[0];
const outletPosition = () =>
  one(`select latitude, longitude from outlets where id = 'out-0001-g1'`) as Promise<{
    latitude: number | null;
    longitude: number | null;
  }>;

describe('PUT /api/enterprises/:id/location', () => {
  it('sets an outlet’s position: applied, audited, shown, and the next import reports the console edit', async () => {
    const s = await loginAs(w.base, 'officer-dist-landong');
    expect(await put(s, 'ent-0001', { outletId: 'out-0001-g1', lat: 30.275, lon: 120.157 })).toEqual({
      status: 200,
      body: { state: 'applied' },
    });
    expect(await outletPosition()).toEqual({ latitude: 30.275, longitude: 120.157 });
    const e = (await sendAs<Answer>(w.base, s, 'GET', '/api/enterprises/ent-0001')).body;
    expect(e).toMatchObject({ latitude: 30.2741, longitude: 120.1552 });
    expect(e.outlets!.find((o) => o.id === 'out-0001-g1')).toMatchObject({
      latitude: 30.275,
      longitude: 120.157,
    });
    expect(
      await one(
        `select before, after from audit_log where action = 'registry.location' and entity_id = 'ent-0001'`,
      ),
    ).toEqual({
      before: { location: { outlet: 'out-0001-g1', location: { lat: 30.2745, lon: 120.156 } } },
      after: { location: { outlet: 'out-0001-g1', location: { lat: 30.275, lon: 120.157 } } },
    });
    // The file gives the outlet another position: the import keeps the console's and says so.
    const r = await importRegistry(w.pool, { path: examplePath }, { logger: silentLogger, cityBounds });
    expect(r.conflicts).toContainEqual(
      expect.objectContaining({ table: 'outlets', key: 'out-0001-g1', editedBy: 'officer-dist-landong' }),
    );
    expect(await outletPosition()).toEqual({ latitude: 30.275, longitude: 120.157 });
    // Both null clears it.
    expect((await put(s, 'ent-0001', { outletId: 'out-0001-g1', lat: null, lon: null })).status).toBe(200);
    expect(await outletPosition()).toEqual({ latitude: null, longitude: null });
  });

  it('refuses a position outside the city, out of range or half given, naming the field; nothing is saved', async () => {
    const s = await loginAs(w.base, 'officer-dist-landong');
    const before = await one(`select latitude, longitude from enterprises where id = 'ent-0001'`);
    const shanghai = await put(s, 'ent-0001', { lat: 31.2304, lon: 121.4737 });
    expect(shanghai).toEqual({
      status: 400,
      body: expect.objectContaining({
        field: 'location',
        message:
          'location：位置 31.2304, 121.4737 不在本市范围内（30.1–30.5°N, 120–120.5°E） / ' +
          'location: position 31.2304, 121.4737 lies outside the city (30.1–30.5°N, 120–120.5°E)',
      }),
    });
    const cases: [object, string][] = [
      [{ lat: 95, lon: 120.2 }, 'lat'],
      [{ lat: 30.2, lon: -181 }, 'lon'],
      [{ lat: 30.2, lon: null }, 'lon'],
      [{ lat: null, lon: 120.2 }, 'lat'],
      [{ outletId: 'out-0003-w1', lat: 30.2, lon: 120.2 }, 'outletId'],
    ];
    for (const [body, field] of cases) {
      const r = await put(s, 'ent-0001', body);
      expect([r.status, r.body.field]).toEqual([400, field]);
      expect(r.body.message).toMatch(new RegExp(`^${field}：.+ / ${field}: .+`));
    }
    expect(await one(`select latitude, longitude from enterprises where id = 'ent-0001'`)).toEqual(before);
    expect(await one(`select count(*)::int as n from audit_log where action = 'registry.location'`)).toEqual({
      n: 2,
    });
  });

  it('keeps to the registry editors’ scope: another district is 404, an enterprise user 403', async () => {
    const other = await loginAs(w.base, 'officer-dist-lanxi');
    expect((await put(other, 'ent-0001', { lat: 30.2, lon: 120.2 })).status).toBe(404);
    const ent = await loginAs(w.base, 'ent-0003-user');
    expect((await put(ent, 'ent-0003', { lat: 30.2, lon: 120.2 })).status).toBe(403);
    expect(await one(`select latitude from enterprises where id = 'ent-0003'`)).toEqual({ latitude: null });
  });
});

it('in Chromium, the position form shows the refusal under the field in each language, then saves', async () => {
  for (const [lang, text] of [
    ['zh', /^location：位置 31\.2304, 121\.4737 不在本市范围内/],
    ['en', /location: position 31\.2304, 121\.4737 lies outside the city/],
  ] as const) {
    const page = await loginPage(chromium.browser, w.base, 'officer-dist-landong');
    await page.evaluate(`localStorage.setItem('lang', '${lang}')`);
    await page.goto(`${w.base}/#/enterprise/ent-0001`);
    await page.reload();
    const form = page.locator('[data-test=position-form]');
    await form.waitFor();
    // The page's own check first: a latitude without its longitude.
    await form.locator('input[name=latitude]').fill('30.3');
    await form.locator('button[type=submit]').click();
    const underLat = page.locator(
      '[data-test=position-form] .el-form-item:has(input[name=latitude]) .el-form-item__error',
    );
    await expect(underLat.textContent()).resolves.toMatch(lang === 'zh' ? /^纬度：/ : /^Latitude: /);
    await form.locator('input[name=latitude]').fill('31.2304');
    await form.locator('input[name=longitude]').fill('121.4737');
    await form.locator('button[type=submit]').click();
    // The page's own error stays under the field until the server's answer replaces it: wait for that.
    await underLat.filter({ hasText: text }).waitFor();
    await expect(underLat.textContent()).resolves.toMatch(text);
    expect(await form.locator('input[name=latitude]').getAttribute('aria-invalid')).toBe('true');
    if (lang === 'zh') {
      await page.screenshot({ path: join(SHOTS, 'registry-position-form.png'), fullPage: true });
      expect(describeViolations('#/enterprise/ent-0001 (position form)', await seriousViolations(page))).toBe(
        '',
      );
    }
    await page.close();
  }
  expect(await one(`select latitude from enterprises where id = 'ent-0001'`)).toEqual({ latitude: 30.2741 });

  const page = await loginPage(chromium.browser, w.base, 'officer-dist-landong');
  await page.goto(`${w.base}/#/enterprise/ent-0001`);
  const form = page.locator('[data-test=position-form]');
  await form.locator('select[name=positionTarget]').selectOption('out-0001-g1');
  await form.locator('input[name=latitude]').fill('30.2752');
  await form.locator('input[name=longitude]').fill('120.1581');
  await form.locator('button[type=submit]').click();
  await page.locator('[data-test=upkeep-outcome]').waitFor();
  // The outcome shows at the server's answer; the list follows once the page has reloaded the enterprise.
  await page.locator('[data-test=position-list]', { hasText: '30.2752, 120.1581' }).waitFor();
  expect(await outletPosition()).toEqual({ latitude: 30.2752, longitude: 120.1581 });
  await page.close();
});
