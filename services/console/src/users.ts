/**
 * Console accounts as admins manage them in the console and operators from the `offsite` CLI (the
 * console owns console_users): add, change (role, district, duty, addresses), disable, reset a
 * password. Each change is one transaction with its audit_log row (actor: the admin, or the operator's
 * name with no console user); a change of role, district or password and disabling end the user's open
 * sessions. Passwords are hashed here (argon2id, as at login) and never logged.
 */
import { transaction, type Queryable } from '@offsite/store';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { appendAudit } from './audit.js';
import { hashPassword } from './auth.js';
import { ROLES, type Role } from './principal.js';

export { ROLES, type Role };

/** A problem with the request itself (unknown user, wrong role for a scope…): the CLI exits 1. */
export class UserAdminError extends Error {
  readonly code: 'USER_EXISTS' | 'USER_NOT_FOUND' | 'USER_INVALID';
  constructor(code: UserAdminError['code'], message: string) {
    super(message);
    this.name = 'UserAdminError';
    this.code = code;
  }
}

export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._-]{1,63}$/;
/** The shortest password the CLI accepts or generates. */
export const MIN_PASSWORD_LENGTH = 12;
/** 18 random bytes as base64url: 24 characters, ~144 bits. Shown once to whoever set it, never stored in clear. */
export const generatePassword = (): string => randomBytes(18).toString('base64url');

export interface NewAccount {
  username: string;
  displayName: string;
  role: Role;
  districtId?: string | null;
  enterpriseId?: string | null;
  password: string;
  email?: string | null;
  phone?: string | null;
  /** Reached by escalations and supervisor alerts (default true). */
  onDuty?: boolean;
  /** Also an inspector for random-inspection draws. */
  inspector?: boolean;
}

export interface UserSummary {
  id: string;
  username: string;
  role: Role;
  districtId: string | null;
  enterpriseId: string | null;
  disabled: boolean;
}

/** Who changes an account: an admin in the console, or an operator's name from the CLI. */
export type UserActor = string | { userId: string; username: string };

/** Every problem with a new account's fields, bilingual and field-named; empty when it is fine. */
export function accountProblems(a: NewAccount): string[] {
  const p: string[] = [];
  if (!USERNAME_PATTERN.test(a.username))
    p.push('username: 2–64 of a-z 0-9 . _ -, starting with a letter or digit (用户名格式不正确)');
  if (a.displayName.length < 1 || a.displayName.length > 100)
    p.push('display name: 1–100 characters (显示名称长度须为 1–100)');
  if (!ROLES.includes(a.role)) p.push(`role: one of ${ROLES.join(', ')} (角色无效)`);
  if ((a.role === 'district-officer') !== Boolean(a.districtId))
    p.push('district: required for a district-officer and only for one (区县仅适用于 district-officer 角色)');
  if ((a.role === 'enterprise') !== Boolean(a.enterpriseId))
    p.push('enterprise: required for an enterprise user and only for one (企业仅适用于 enterprise 角色)');
  if (a.password.length < MIN_PASSWORD_LENGTH)
    p.push(`password: at least ${MIN_PASSWORD_LENGTH} characters (密码至少 ${MIN_PASSWORD_LENGTH} 位)`);
  p.push(...contactProblems(a));
  return p;
}

/** Problems with a user's own addresses (where escalations reach them). */
export function contactProblems(a: { email?: string | null; phone?: string | null }): string[] {
  const p: string[] = [];
  if (a.email && !/^[^@\s]+@[^@\s]+$/.test(a.email)) p.push('email: not an email address (邮箱格式不正确)');
  if (a.phone && !/^\+?[0-9]{5,20}$/.test(a.phone)) p.push('phone: not a phone number (手机号格式不正确)');
  return p;
}

const actorOf = (by: UserActor) =>
  typeof by === 'string'
    ? { userId: null, username: `cli:${by}` }
    : { userId: by.userId, username: by.username };

/** Creates an account; refuses an existing username (use resetPassword for that account). */
export async function addUser(pool: pg.Pool, given: NewAccount, operator: UserActor): Promise<UserSummary> {
  const hash = await hashedAccount(given);
  return transaction(pool, (db) => insertAccount(db, given, hash, operator));
}

/** Checks a new account's fields (throws USER_INVALID) and answers its password's hash. */
export async function hashedAccount(a: NewAccount): Promise<string> {
  const problems = accountProblems({ ...a, username: a.username.toLowerCase() });
  if (problems.length > 0) throw new UserAdminError('USER_INVALID', problems.join('\n'));
  return hashPassword(a.password);
}

/** Inserts a checked account (see hashedAccount) inside the caller's transaction, audited. */
export async function insertAccount(
  db: Queryable,
  given: NewAccount,
  hash: string,
  operator: UserActor,
): Promise<UserSummary> {
  // Usernames are case-insensitive: stored in lower case, as login looks them up.
  const a = { ...given, username: given.username.toLowerCase() };
  const username = a.username;
  const scope = await db.query<{ district: boolean; enterprise: boolean }>(
    `select exists (select 1 from districts where id = $1) as district,
            exists (select 1 from enterprises where id = $2) as enterprise`,
    [a.districtId ?? null, a.enterpriseId ?? null],
  );
  if (a.districtId && !scope.rows[0]?.district)
    throw new UserAdminError(
      'USER_INVALID',
      `district: no district ${a.districtId} in the registry (区县不存在)`,
    );
  if (a.enterpriseId && !scope.rows[0]?.enterprise)
    throw new UserAdminError(
      'USER_INVALID',
      `enterprise: no enterprise ${a.enterpriseId} in the registry (企业不存在)`,
    );
  const r = await db.query<{ id: string }>(
    `insert into console_users (username, display_name, role, district_id, enterprise_id, password_hash,
                                email, phone, on_duty, inspector)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     on conflict (username) do nothing
     returning id::text as id`,
    [
      username,
      a.displayName,
      a.role,
      a.districtId ?? null,
      a.enterpriseId ?? null,
      hash,
      a.email || null,
      a.phone || null,
      a.onDuty ?? true,
      a.inspector ?? false,
    ],
  );
  const id = r.rows[0]?.id;
  if (!id) throw new UserAdminError('USER_EXISTS', `username: ${username} already exists (用户名已存在)`);
  const summary: UserSummary = {
    id,
    username,
    role: a.role,
    districtId: a.districtId ?? null,
    enterpriseId: a.enterpriseId ?? null,
    disabled: false,
  };
  await appendAudit(db, actorOf(operator), {
    action: 'user.add',
    entityType: 'console_user',
    entityId: id,
    districtId: summary.districtId,
    before: null,
    after: {
      ...summary,
      displayName: a.displayName,
      email: a.email || null,
      phone: a.phone || null,
      onDuty: a.onDuty ?? true,
      inspector: a.inspector ?? false,
    },
  });
  return summary;
}

async function change(
  pool: pg.Pool,
  username: string,
  operator: UserActor,
  action: 'user.disable' | 'user.reset-password',
  sql: string,
  params: unknown[],
): Promise<UserSummary> {
  return transaction(pool, async (db) => {
    const r = await db.query<{
      id: string;
      username: string;
      role: Role;
      district_id: string | null;
      enterprise_id: string | null;
      disabled: boolean;
    }>(
      `update console_users set ${sql}, updated_at = now() where username = $1
       returning id::text as id, username, role, district_id, enterprise_id, disabled`,
      [username.toLowerCase(), ...params],
    );
    const row = r.rows[0];
    if (!row) throw new UserAdminError('USER_NOT_FOUND', `username: no user ${username} (用户不存在)`);
    const ended = await db.query('delete from console_sessions where user_id = $1', [row.id]);
    const summary: UserSummary = {
      id: row.id,
      username: row.username,
      role: row.role,
      districtId: row.district_id,
      enterpriseId: row.enterprise_id,
      disabled: row.disabled,
    };
    await appendAudit(db, actorOf(operator), {
      action,
      entityType: 'console_user',
      entityId: row.id,
      districtId: row.district_id,
      before: null,
      after: { disabled: row.disabled, sessionsEnded: ended.rowCount ?? 0 },
    });
    return summary;
  });
}

/** Disables the account and ends its sessions; it can no longer log in. */
export function disableUser(pool: pg.Pool, username: string, operator: UserActor): Promise<UserSummary> {
  return change(pool, username, operator, 'user.disable', 'disabled = true', []);
}

/** Sets a new password, enables the account again and ends its sessions. */
export async function resetPassword(
  pool: pg.Pool,
  username: string,
  password: string,
  operator: UserActor,
): Promise<UserSummary> {
  if (password.length < MIN_PASSWORD_LENGTH)
    throw new UserAdminError(
      'USER_INVALID',
      `password: at least ${MIN_PASSWORD_LENGTH} characters (密码至少 ${MIN_PASSWORD_LENGTH} 位)`,
    );
  const hash = await hashPassword(password);
  return change(pool, username, operator, 'user.reset-password', 'password_hash = $2, disabled = false', [
    hash,
  ]);
}

export interface AccountPatch {
  displayName?: string;
  role?: Role;
  districtId?: string | null;
  enterpriseId?: string | null;
  email?: string | null;
  phone?: string | null;
  onDuty?: boolean;
  inspector?: boolean;
}

const PATCH_COLUMNS: Record<keyof AccountPatch, string> = {
  displayName: 'display_name',
  role: 'role',
  districtId: 'district_id',
  enterpriseId: 'enterprise_id',
  email: 'email',
  phone: 'phone',
  onDuty: 'on_duty',
  inspector: 'inspector',
};

/**
 * Changes an account's name, role, district, addresses or duty. A new role or district ends the
 * user's sessions (their scope changed). Audited with before → after.
 */
export async function updateUser(
  pool: pg.Pool,
  username: string,
  patch: AccountPatch,
  operator: UserActor,
): Promise<UserSummary> {
  const keys = (Object.keys(patch) as (keyof AccountPatch)[]).filter((k) => patch[k] !== undefined);
  if (keys.length === 0) throw new UserAdminError('USER_INVALID', 'nothing to change (没有要修改的内容)');
  return transaction(pool, async (db) => {
    const cols = keys.map((k) => PATCH_COLUMNS[k]);
    const r = await db.query<Record<string, unknown> & { id: string }>(
      `select id::text as id, role, district_id, enterprise_id, disabled, ${cols.join(', ')}
         from console_users where username = $1 for update`,
      [username.toLowerCase()],
    );
    const row = r.rows[0];
    if (!row) throw new UserAdminError('USER_NOT_FOUND', `username: no user ${username} (用户不存在)`);
    const next = {
      role: (patch.role ?? row.role) as Role,
      districtId: (patch.districtId !== undefined ? patch.districtId : row.district_id) as string | null,
      enterpriseId: (patch.enterpriseId !== undefined ? patch.enterpriseId : row.enterprise_id) as
        string | null,
    };
    // A role without a scope drops the old one: an officer made supervisor leaves its district.
    if (next.role !== 'district-officer' && patch.districtId === undefined) next.districtId = null;
    if (next.role !== 'enterprise' && patch.enterpriseId === undefined) next.enterpriseId = null;
    const problems = accountProblems({
      username: username.toLowerCase(),
      displayName: patch.displayName ?? 'x',
      role: next.role,
      districtId: next.districtId,
      enterpriseId: next.enterpriseId,
      password: 'x'.repeat(MIN_PASSWORD_LENGTH),
      email: patch.email ?? null,
      phone: patch.phone ?? null,
    });
    if (next.districtId) {
      const d = await db.query('select 1 from districts where id = $1', [next.districtId]);
      if (d.rowCount === 0)
        problems.push(`district: no district ${next.districtId} in the registry (区县不存在)`);
    }
    if (problems.length > 0) throw new UserAdminError('USER_INVALID', problems.join('\n'));
    const values: Record<string, unknown> = Object.fromEntries(
      keys.map((k) => [PATCH_COLUMNS[k], patch[k] ?? null]),
    );
    values.district_id = next.districtId;
    values.enterprise_id = next.enterpriseId;
    const set = Object.keys(values);
    await db.query(
      `update console_users set ${set.map((c, i) => `${c} = $${i + 2}`).join(', ')}, updated_at = now() where id = $1`,
      [row.id, ...Object.values(values)],
    );
    const scopeChanged =
      next.role !== row.role ||
      next.districtId !== row.district_id ||
      next.enterpriseId !== row.enterprise_id;
    if (scopeChanged) await db.query('delete from console_sessions where user_id = $1', [row.id]);
    const before = Object.fromEntries(set.map((c) => [c, row[c] ?? null]));
    await appendAudit(db, actorOf(operator), {
      action: 'user.update',
      entityType: 'console_user',
      entityId: row.id,
      districtId: next.districtId ?? (row.district_id as string | null),
      before,
      after: { ...values, ...(scopeChanged ? { sessionsEnded: true } : {}) },
    });
    return {
      id: row.id,
      username: username.toLowerCase(),
      role: next.role,
      districtId: next.districtId,
      enterpriseId: next.enterpriseId,
      disabled: row.disabled as boolean,
    };
  });
}

/** Every account, for the admins' user page (never a password hash). */
export async function listUsers(pool: pg.Pool) {
  const r = await pool.query(
    `select id::text as id, username, display_name as "displayName", role, district_id as "districtId",
            enterprise_id as "enterpriseId", email, phone, on_duty as "onDuty", inspector, disabled,
            created_at as "createdAt"
       from console_users order by role, district_id nulls first, username`,
  );
  return r.rows;
}
