/** Reads a server address that `offsite-infra up` wrote to .offsite/env; fails clearly when it is missing. */
export function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v)
    throw new Error(
      `${name} is not set: start the servers with \`npm run infra -- up\` (integration tests read .offsite/env)`,
    );
  return v;
}
