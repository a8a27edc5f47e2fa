import type { Queryable } from '@offsite/store';
import { upsertUser } from './auth.js';

export interface SeededUser {
  username: string;
  role: string;
  districtId: string | null;
  email?: string;
}

/**
 * Creates the demo users: admin, a city supervisor, one officer per district, a viewer. Idempotent.
 * The supervisor and the officers have demo addresses (`supervisor@qinglan.example`,
 * `<district>.officer@qinglan.example`): the alerter reaches them through console_recipients_v1.
 * `passwordFor(username)` gives each account its password (the demo generates one per account).
 */
export async function seedDemoUsers(
  db: Queryable,
  passwordFor: (username: string) => string,
): Promise<SeededUser[]> {
  const users: (SeededUser & { displayName: string })[] = [
    { username: 'admin', displayName: '系统管理员', role: 'admin', districtId: null },
    {
      username: 'supervisor',
      displayName: '市局监管员',
      role: 'city-supervisor',
      districtId: null,
      email: 'supervisor@qinglan.example',
    },
  ];
  const d = await db.query<{ id: string; name_zh: string }>('select id, name_zh from districts order by id');
  for (const row of d.rows)
    users.push({
      username: `officer-${row.id}`.slice(0, 64),
      displayName: `${row.name_zh}分局`,
      role: 'district-officer',
      districtId: row.id,
      email: `${row.id.replace(/^dist-/, '')}.officer@qinglan.example`,
    });
  users.push({ username: 'viewer', displayName: '只读用户', role: 'viewer', districtId: null });
  for (const u of users)
    await upsertUser(db, {
      username: u.username,
      displayName: u.displayName,
      role: u.role as 'admin',
      districtId: u.districtId,
      email: u.email ?? null,
      password: passwordFor(u.username),
    });
  return users.map(({ username, role, districtId }) => ({ username, role, districtId }));
}
