import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import type { Queryable } from '@offsite/store';
import type { ArgonGate } from './login-guard.js';
import type { Principal, Role } from './principal.js';

// argon2id (the library's default algorithm) with OWASP's minimum memory cost, 19 MiB.
const ARGON_OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
let dummyHash: string | undefined;

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON_OPTIONS);
}

export interface SessionPolicy {
  /** A session ends after this much inactivity. */
  idleMs: number;
  /** …and at the latest this long after login. */
  absoluteMs: number;
}

export interface NewSession {
  token: string;
  csrfToken: string;
  principal: Principal;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

interface UserRow {
  id: string;
  username: string;
  display_name: string;
  role: Role;
  district_id: string | null;
  enterprise_id: string | null;
  password_hash: string;
  disabled: boolean;
}

const toPrincipal = (u: Omit<UserRow, 'password_hash' | 'disabled'>): Principal => ({
  userId: String(u.id),
  username: u.username,
  displayName: u.display_name,
  role: u.role,
  districtId: u.district_id,
  enterpriseId: u.enterprise_id,
});

/**
 * Checks the password and opens a session. An unknown user costs the same argon2 verification as
 * a known one, so response times do not tell which usernames exist. `gate` bounds how many
 * verifications run at once (it throws BUSY when its queue is full).
 */
export async function login(
  db: Queryable,
  username: string,
  password: string,
  policy: SessionPolicy,
  gate?: ArgonGate,
): Promise<NewSession | undefined> {
  const run = <T>(fn: () => Promise<T>): Promise<T> => (gate ? gate.run(fn) : fn());
  const r = await db.query<UserRow>(
    `select id::text as id, username, display_name, role, district_id, enterprise_id, password_hash, disabled
       from console_users where username = $1`,
    [username.toLowerCase()],
  );
  const user = r.rows[0];
  if (!user) {
    dummyHash ??= await hashPassword(randomBytes(16).toString('hex'));
    const dummy = dummyHash;
    await run(() => verify(dummy, password).catch(() => false));
    return undefined;
  }
  const ok = await run(() => verify(user.password_hash, password).catch(() => false));
  if (!ok || user.disabled) return undefined;
  const token = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(32).toString('base64url');
  await db.query(
    `insert into console_sessions (token_hash, user_id, csrf_token, expires_at)
     values ($1, $2, $3, now() + make_interval(secs => $4::double precision / 1000))`,
    [sha256(token), user.id, csrfToken, Math.min(policy.idleMs, policy.absoluteMs)],
  );
  return { token, csrfToken, principal: toPrincipal(user) };
}

export interface ResolvedSession {
  principal: Principal;
  csrfToken: string;
}

/** Resolves a live session and slides its idle expiry (never past the absolute limit). */
export async function resolveSession(
  db: Queryable,
  token: string,
  policy: SessionPolicy,
): Promise<ResolvedSession | undefined> {
  const r = await db.query<UserRow & { csrf_token: string }>(
    `update console_sessions s
        set last_seen_at = now(),
            expires_at = least(s.created_at + make_interval(secs => $3::double precision / 1000),
                               now() + make_interval(secs => $2::double precision / 1000))
       from console_users u
      where s.token_hash = $1 and s.user_id = u.id and s.expires_at > now() and not u.disabled
      returning u.id::text as id, u.username, u.display_name, u.role, u.district_id, u.enterprise_id, s.csrf_token`,
    [sha256(token), policy.idleMs, policy.absoluteMs],
  );
  const row = r.rows[0];
  return row ? { principal: toPrincipal(row), csrfToken: row.csrf_token } : undefined;
}

/** When a live session expires (without sliding it), or undefined if it has ended or its user is disabled. */
export async function sessionExpiry(db: Queryable, token: string): Promise<Date | undefined> {
  const r = await db.query<{ expires_at: Date }>(
    `select s.expires_at from console_sessions s join console_users u on u.id = s.user_id
      where s.token_hash = $1 and s.expires_at > now() and not u.disabled`,
    [sha256(token)],
  );
  return r.rows[0]?.expires_at;
}

export async function endSession(db: Queryable, token: string): Promise<void> {
  await db.query('delete from console_sessions where token_hash = $1', [sha256(token)]);
}

/** Constant-time comparison of the CSRF header with the session's token. */
export function csrfMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface NewUser {
  username: string;
  displayName: string;
  role: Role;
  password: string;
  districtId?: string | null;
  enterpriseId?: string | null;
  /** Where escalations and supervisor alerts reach the user (console_recipients_v1). */
  email?: string | null;
}

/** Creates or updates a user (by username), setting its password. Returns the id. */
export async function upsertUser(db: Queryable, u: NewUser): Promise<string> {
  const r = await db.query<{ id: string }>(
    `insert into console_users (username, display_name, role, district_id, enterprise_id, password_hash, email)
     values ($1, $2, $3, $4, $5, $6, $7)
     on conflict (username) do update set display_name = excluded.display_name, role = excluded.role,
       district_id = excluded.district_id, enterprise_id = excluded.enterprise_id,
       password_hash = excluded.password_hash, disabled = false, email = excluded.email
     returning id::text as id`,
    [
      u.username.toLowerCase(),
      u.displayName,
      u.role,
      u.districtId ?? null,
      u.enterpriseId ?? null,
      await hashPassword(u.password),
      u.email ?? null,
    ],
  );
  return r.rows[0]!.id;
}
