// A Postgres server of a test's own (own data directory and port), for tests that stop and start
// Postgres without disturbing the shared servers other tests use. Same binaries as offsite-infra
// (PostgreSQL 15 from Debian, or OFFSITE_PG_BINDIR); run as the `postgres` OS user when the test
// runs as root (Postgres refuses root). Loopback only, trust authentication: test data only.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:port/postgres */
  readonly url: string;
  start(): Promise<void>;
  /** Fast shutdown (SIGINT): open connections are terminated, as in a restart. */
  stop(): Promise<void>;
  /** stop(), then the data directory is removed. */
  destroy(): Promise<void>;
}

function binDir(): string {
  if (process.env.OFFSITE_PG_BINDIR) return process.env.OFFSITE_PG_BINDIR;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const v = versions.find((x) => existsSync(path.join(root, x, 'bin', 'postgres')));
  if (!v)
    throw new Error('no PostgreSQL binaries under /usr/lib/postgresql (run `npm run infra -- up` once)');
  return path.join(root, v, 'bin');
}

/** A TCP port free on loopback right now (for a private server). */
export async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  await once(s, 'close');
  return port;
}

async function until(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const asRoot = process.getuid?.() === 0;
/** argv run as the postgres OS user when we are root. */
const asPg = (argv: string[]): [string, string[]] =>
  asRoot ? ['runuser', ['-u', 'postgres', '--', ...argv]] : [argv[0]!, argv.slice(1)];

/** initdb into a new temporary directory; the server is not started yet. */
export async function privatePostgres(): Promise<PrivatePostgres> {
  const bin = binDir();
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'offsite-pg-'));
  const data = path.join(dir, 'data');
  if (asRoot) spawnSync('chown', ['postgres:', dir]);
  const [cmd, args] = asPg([
    path.join(bin, 'initdb'),
    '-D',
    data,
    '-U',
    'postgres',
    '-E',
    'UTF8',
    '--no-locale',
    '--auth=trust',
  ]);
  const init = spawnSync(cmd, args, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  let proc: ChildProcess | undefined;
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;

  async function ready(): Promise<boolean> {
    const r = spawn(path.join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port)]);
    const [code] = (await once(r, 'exit')) as [number | null];
    return code === 0;
  }

  const pg: PrivatePostgres = {
    url,
    async start() {
      const [c, a] = asPg([
        path.join(bin, 'postgres'),
        '-D',
        data,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `unix_socket_directories=${dir}`,
        '-c',
        'fsync=off',
        '-c',
        'max_connections=50',
      ]);
      proc = spawn(c, a, { stdio: 'ignore' });
      const exited = once(proc, 'exit');
      await Promise.race([
        until(ready, 30_000, `private Postgres on port ${port}`),
        exited.then(() => {
          throw new Error(`private Postgres on port ${port} exited at start`);
        }),
      ]);
    },
    async stop() {
      const p = proc;
      proc = undefined;
      if (!p || p.exitCode !== null) return;
      const exited = once(p, 'exit');
      // SIGINT to the postmaster itself (not to runuser): fast shutdown.
      const pid = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      process.kill(pid, 'SIGINT');
      await exited;
      await until(async () => !(await ready()), 10_000, 'private Postgres stopped');
    },
    async destroy() {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return pg;
}
