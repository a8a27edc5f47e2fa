/**
 * Console accounts as operators manage them from the `offsite` CLI (the console owns console_users):
 * add, disable, reset a password. Each change is one transaction with its audit_log row (actor: the
 * operator's name, no console user); disabling or resetting ends the user's open sessions. Passwords
 * are hashed here (argon2id, as at login) and never returned or logged.
 */
import type pg from 'pg';
import { appendAudit } from './audit.js';
import { hashPassword } from './auth.js';
import { ROLES, type Role } from './principal.js';
import { inTx } from './registry.js';

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

export interface NewAccount {
  username: string;
  displayName: string;
  role: Role;
  districtId?: string | null;
  enterpriseId?: string | null;
  password: string;
}

export interface UserSummary {
  id: string;
  username: string;
  role: Role;
  districtId: string | null;
  enterpriseId: string | null;
  disabled: boolean;
}

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
  return p;
}

const actorOf = (operator: string) => ({ userId: null, username: `cli:${operator}` });

/** Creates an account; refuses an existing username (use resetPassword for that account). */
export async function addUser(pool: pg.Pool, given: NewAccount, operator: string): Promise<UserSummary> {
  // Usernames are case-insensitive: stored in lower case, as login looks them up.
  const a = { ...given, username: given.username.toLowerCase() };
  const problems = accountProblems(a);
  if (problems.length > 0) throw new UserAdminError('USER_INVALID', problems.join('\n'));
  const username = a.username;
  const hash = await hashPassword(a.password);
  return inTx(pool, async (db) => {
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
      `insert into console_users (username, display_name, role, district_id, enterprise_id, password_hash)
       values ($1, $2, $3, $4, $5, $6)
       on conflict (username) do nothing
       returning id::text as id`,
      [username, a.displayName, a.role, a.districtId ?? null, a.enterpriseId ?? null, hash],
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
      after: { ...summary, displayName: a.displayName },
    });
    return summary;
  });
}

async function change(
  pool: pg.Pool,
  username: string,
  operator: string,
  action: 'user.disable' | 'user.reset-password',
  sql: string,
  params: unknown[],
): Promise<UserSummary> {
  return inTx(pool, async (db) => {
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
export function disableUser(pool: pg.Pool, username: string, operator: string): Promise<UserSummary> {
  return change(pool, username, operator, 'user.disable', 'disabled = true', []);
}

/** Sets a new password, enables the account again and ends its sessions. */
export async function resetPassword(
  pool: pg.Pool,
  username: string,
  password: string,
  operator: string,
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
