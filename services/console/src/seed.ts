import type { Queryable } from '@offsite/store';
import { upsertUser } from './auth.js';

export interface DemoPasswords {
  admin: string;
  supervisor: string;
  officer: string;
  viewer: string;
}

export interface SeededUser {
  username: string;
  role: string;
  districtId: string | null;
}

/** Creates the demo users: admin, a city supervisor, one officer per district, a viewer. Idempotent. */
export async function seedDemoUsers(db: Queryable, pw: DemoPasswords): Promise<SeededUser[]> {
  const out: SeededUser[] = [];
  await upsertUser(db, { username: 'admin', displayName: '系统管理员', role: 'admin', password: pw.admin });
  out.push({ username: 'admin', role: 'admin', districtId: null });
  await upsertUser(db, {
    username: 'supervisor',
    displayName: '市局监管员',
    role: 'city-supervisor',
    password: pw.supervisor,
  });
  out.push({ username: 'supervisor', role: 'city-supervisor', districtId: null });
  const d = await db.query<{ id: string; name_zh: string }>('select id, name_zh from districts order by id');
  for (const row of d.rows) {
    const username = `officer-${row.id}`.slice(0, 64);
    await upsertUser(db, {
      username,
      displayName: `${row.name_zh}分局`,
      role: 'district-officer',
      districtId: row.id,
      password: pw.officer,
    });
    out.push({ username, role: 'district-officer', districtId: row.id });
  }
  await upsertUser(db, { username: 'viewer', displayName: '只读用户', role: 'viewer', password: pw.viewer });
  out.push({ username: 'viewer', role: 'viewer', districtId: null });
  return out;
}
