/**
 * `offsite user add|disable|reset-password`: console accounts, through the console's own module
 * (@offsite/console/users: argon2id hashes, sessions ended, an audit_log row naming the operator).
 * A password comes from standard input (`--password-stdin`, one line) or is generated and printed once.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type pg from 'pg';
import {
  MIN_PASSWORD_LENGTH,
  ROLES,
  UserAdminError,
  addUser,
  disableUser,
  generatePassword,
  resetPassword,
  type Role,
  type UserSummary,
} from '@offsite/console/users';
import { parse } from '../args.js';
import { EXIT_INPUT_PROBLEM, EXIT_OK, UsageError, type CliIo, type Command } from '../command.js';
import { operatorName } from '../operator-log.js';
import { SETTINGS_USAGE, settingsOptions, withPool } from '../settings.js';

export { generatePassword };

async function firstLine(input: Readable): Promise<string> {
  const rl = createInterface({ input, crlfDelay: Infinity });
  for await (const line of rl) {
    rl.close();
    return line;
  }
  return '';
}

async function passwordFrom(
  fromStdin: boolean,
  io: CliIo,
): Promise<{ password: string; generated: boolean }> {
  if (!fromStdin) return { password: generatePassword(), generated: true };
  const password = await firstLine(io.stdin);
  if (password.length < MIN_PASSWORD_LENGTH)
    throw new UsageError(
      `the password on standard input must have at least ${MIN_PASSWORD_LENGTH} characters`,
    );
  return { password, generated: false };
}

const describe = (u: UserSummary): string =>
  `${u.username} (${u.role}${u.districtId ? `, district ${u.districtId}` : ''}${u.enterpriseId ? `, enterprise ${u.enterpriseId}` : ''})`;

/** withPool, with the console's refusals (exists, not found, invalid field) as exit 1. */
function withUsers(
  io: CliIo,
  what: string,
  values: { 'env-file'?: string[] | undefined; unit?: string | undefined },
  work: (pool: pg.Pool) => Promise<number>,
): Promise<number> {
  return withPool(io, what, values, async (pool) => {
    try {
      return await work(pool);
    } catch (error) {
      if (!(error instanceof UserAdminError)) throw error;
      io.stderr.write(`offsite ${what}: ${error.message}\n`);
      return EXIT_INPUT_PROBLEM;
    }
  });
}

const ROLE_LIST = ROLES.join(', ');

export const userAddCommand: Command = {
  path: ['user', 'add'],
  summary: 'create a console account',
  usage: [
    'Usage: offsite user add USERNAME --role ROLE [--district ID] [--enterprise ID] [--name "DISPLAY NAME"]',
    '                        [--password-stdin] [--env-file FILE] [--unit FILE]',
    '',
    `ROLE is one of ${ROLE_LIST}; a district-officer needs --district, an enterprise user --enterprise`,
    '(both must exist in the registry). Without --password-stdin a password is generated and printed',
    'once on standard output; give it to the user over a separate channel.',
    ...SETTINGS_USAGE,
    'Exit code: 0 created, 1 refused (exists, invalid field, unknown district…), 2 usage error, 78 bad settings.',
  ].join('\n'),
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { values, positionals } = parse(args, {
      ...settingsOptions,
      role: { type: 'string' },
      district: { type: 'string' },
      enterprise: { type: 'string' },
      name: { type: 'string' },
      'password-stdin': { type: 'boolean' },
    });
    if (positionals.length !== 1) throw new UsageError('give exactly one USERNAME');
    if (!values.role) throw new UsageError(`--role is required (${ROLE_LIST})`);
    if (!(ROLES as readonly string[]).includes(values.role))
      throw new UsageError(`--role must be one of ${ROLE_LIST}, got "${values.role}"`);
    const username = positionals[0]!;
    const { password, generated } = await passwordFrom(values['password-stdin'] === true, io);
    return withUsers(io, 'user add', values, async (pool) => {
      const user = await addUser(
        pool,
        {
          username,
          displayName: values.name ?? username,
          role: values.role as Role,
          districtId: values.district ?? null,
          enterpriseId: values.enterprise ?? null,
          password,
        },
        operatorName(),
      );
      io.stdout.write(`created ${describe(user)}\n`);
      if (generated) io.stdout.write(`password: ${password}\n`);
      return EXIT_OK;
    });
  },
};

export const userDisableCommand: Command = {
  path: ['user', 'disable'],
  summary: 'disable a console account and end its sessions',
  usage: [
    'Usage: offsite user disable USERNAME [--env-file FILE] [--unit FILE]',
    '',
    'The account can no longer log in and its open sessions end now; `user reset-password` enables it again.',
    ...SETTINGS_USAGE,
    'Exit code: 0 disabled, 1 no such user, 2 usage error, 78 bad settings.',
  ].join('\n'),
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { values, positionals } = parse(args, settingsOptions);
    if (positionals.length !== 1) throw new UsageError('give exactly one USERNAME');
    return withUsers(io, 'user disable', values, async (pool) => {
      const user = await disableUser(pool, positionals[0]!, operatorName());
      io.stdout.write(`disabled ${describe(user)}; its sessions ended\n`);
      return EXIT_OK;
    });
  },
};

export const userResetPasswordCommand: Command = {
  path: ['user', 'reset-password'],
  summary: 'set a new password for a console account (and enable it)',
  usage: [
    'Usage: offsite user reset-password USERNAME [--password-stdin] [--env-file FILE] [--unit FILE]',
    '',
    'Sets a new password (generated and printed once, or one line from standard input), enables the',
    'account if it was disabled and ends its open sessions.',
    ...SETTINGS_USAGE,
    'Exit code: 0 done, 1 no such user, 2 usage error, 78 bad settings.',
  ].join('\n'),
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { values, positionals } = parse(args, {
      ...settingsOptions,
      'password-stdin': { type: 'boolean' },
    });
    if (positionals.length !== 1) throw new UsageError('give exactly one USERNAME');
    const { password, generated } = await passwordFrom(values['password-stdin'] === true, io);
    return withUsers(io, 'user reset-password', values, async (pool) => {
      const user = await resetPassword(pool, positionals[0]!, password, operatorName());
      io.stdout.write(`new password set for ${describe(user)}; its sessions ended\n`);
      if (generated) io.stdout.write(`password: ${password}\n`);
      return EXIT_OK;
    });
  },
};
