// Admins manage console users (create, change role/district/duty/addresses, disable, reset a
// password); every change audited in users.ts. A new or reset password is generated here and answered
// once, to the admin who hands it over; it is never logged or stored in clear.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { ConsoleError } from './errors.js';
import { ROLES, type Principal } from './principal.js';
import { Nullable, Obj } from './request-schema.js';
import {
  UserAdminError,
  addUser,
  disableUser,
  generatePassword,
  listUsers,
  resetPassword,
  updateUser,
  type AccountPatch,
} from './users.js';

const Role = Type.Union(ROLES.map((r) => Type.Literal(r)));
const Ref = Type.String({ minLength: 1, maxLength: 64 });
const Editable = {
  displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  role: Type.Optional(Role),
  districtId: Type.Optional(Nullable(Ref)),
  enterpriseId: Type.Optional(Nullable(Ref)),
  email: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
  phone: Type.Optional(Nullable(Type.String({ maxLength: 21 }))),
  onDuty: Type.Optional(Type.Boolean()),
  inspector: Type.Optional(Type.Boolean()),
};
const NewUser = Obj({
  ...Editable,
  username: Type.String({ minLength: 1, maxLength: 64 }),
  displayName: Type.String({ minLength: 1, maxLength: 100 }),
  role: Role,
});
const Patch = Obj(Editable);
const Username = Obj({ username: Type.String({ minLength: 1, maxLength: 64 }) });

/** The CLI's error kinds as the API's: field-named 400, 404. */
export function asConsoleError(err: unknown): unknown {
  if (!(err instanceof UserAdminError)) return err;
  if (err.code === 'USER_NOT_FOUND') return new ConsoleError('NOT_FOUND', err.message);
  const field = /^([a-z ]+):/.exec(err.message)?.[1]?.replace(/ (\w)/g, (_, c: string) => c.toUpperCase());
  return new ConsoleError('INVALID_INPUT', bilingualProblems(err.message), {
    details: { in: 'body', field: field ?? 'body' },
  });
}

/** `field: English (中文)` lines as one `中文 / English` message, the form every error answer takes. */
export function bilingualProblems(message: string): string {
  const zh: string[] = [];
  const en: string[] = [];
  for (const line of message.split('\n')) {
    const m = /^(.*?) \(([^()]*[\u4e00-\u9fff][^()]*)\)$/.exec(line);
    en.push(m ? m[1]! : line);
    zh.push(m ? m[2]! : line);
  }
  return `${zh.join('；')} / ${en.join('; ')}`;
}

export function registerUserRoutes(
  app: FastifyInstance,
  o: { pool: pg.Pool; who: (req: FastifyRequest) => Principal },
): void {
  const tags = ['users'];
  const admin = (req: FastifyRequest) => {
    const p = o.who(req);
    if (p.role !== 'admin')
      throw new ConsoleError('FORBIDDEN', '仅管理员可管理用户 / only admins manage users');
    return { userId: p.userId, username: p.username };
  };
  const run = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw asConsoleError(err);
    }
  };

  app.get('/api/users', { schema: { tags } }, async (req) => {
    admin(req);
    return { items: await listUsers(o.pool) };
  });
  app.post('/api/users', { schema: { body: NewUser, tags } }, async (req) => {
    const by = admin(req);
    const b = req.body as Static<typeof NewUser>;
    const password = generatePassword();
    const user = await run(() => addUser(o.pool, { ...b, password }, by));
    return { user, password };
  });
  app.patch('/api/users/:username', { schema: { params: Username, body: Patch, tags } }, async (req) => {
    const by = admin(req);
    const { username } = req.params as Static<typeof Username>;
    return { user: await run(() => updateUser(o.pool, username, req.body as AccountPatch, by)) };
  });
  app.post('/api/users/:username/disable', { schema: { params: Username, tags } }, async (req) => {
    const by = admin(req);
    const { username } = req.params as Static<typeof Username>;
    if (username.toLowerCase() === by.username)
      throw new ConsoleError('INVALID_INPUT', '不能停用自己的账号 / you cannot disable your own account', {
        details: { in: 'params', field: 'username' },
      });
    return { user: await run(() => disableUser(o.pool, username, by)) };
  });
  app.post('/api/users/:username/reset-password', { schema: { params: Username, tags } }, async (req) => {
    const by = admin(req);
    const { username } = req.params as Static<typeof Username>;
    const password = generatePassword();
    return { user: await run(() => resetPassword(o.pool, username, password, by)), password };
  });
}
