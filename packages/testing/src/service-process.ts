// Runs a service as a real child process (its `npm run dev` command line: production's node flags,
// from source) and reads its ops URL from its JSON log.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The condition under which the workspace packages' `exports` name their TypeScript sources. */
export const SOURCE_CONDITION = 'offsite-source';

/**
 * A service's node flags: its `npm start` script (`node [flags] dist/main.js`, what production runs)
 * is the one place they are set (e.g. the young-generation size of the ingest services), so every
 * launcher — tests, flows, benchmarks, the demo, the systemd units — runs it with the same flags.
 */
export function serviceNodeFlags(serviceDir: string | URL): string[] {
  const dir = typeof serviceDir === 'string' ? serviceDir : fileURLToPath(serviceDir);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    scripts?: { start?: string; dev?: string };
  };
  const m = /^node((?: --?[\w-]+(?:=\S+)?)*) dist\/main\.js$/.exec(pkg.scripts?.start ?? '');
  if (!m) throw new Error(`${dir}: start script is not "node [flags] dist/main.js"`);
  const flags = (m[1] ?? '').split(' ').filter(Boolean);
  const dev = ['node', ...flags, ...sourceTail].join(' ');
  if (pkg.scripts?.dev !== dev)
    throw new Error(`${dir}: dev script must be "${dev}" (the start script's flags, from source)`);
  return flags;
}

const sourceTail = [`--conditions=${SOURCE_CONDITION}`, '--import', 'tsx', 'src/main.ts'];

/** The node arguments that run a service from its TypeScript sources (its `npm run dev`), as tests do. */
export function serviceNodeArgs(serviceDir: string | URL): string[] {
  return [...serviceNodeFlags(serviceDir), ...sourceTail];
}

export interface ServiceProcess {
  proc: ChildProcess;
  /** Resolves with the ops server's URL once the service logs `ops server listening`; rejects if it exits first. */
  opsUrl: Promise<string>;
  /** Every stdout line (and stderr chunks prefixed `[stderr]`), for assertions and failure messages. */
  logs: string[];
  exited: Promise<number | null>;
  kill9(): Promise<void>;
  stop(): Promise<number | null>;
}

/**
 * Starts the service in `serviceDir` (its package directory, a path or file URL) with `env` over the
 * test's environment, an ephemeral ops port and info logs. Set OFFSITE_TEST_DEBUG to echo its log.
 */
export function runService(serviceDir: string | URL, env: Record<string, string>): ServiceProcess {
  const base = { ...process.env };
  delete base.NODE_OPTIONS; // jest's --experimental-vm-modules is not for the service
  const proc = spawn(process.execPath, serviceNodeArgs(serviceDir), {
    cwd: typeof serviceDir === 'string' ? serviceDir : fileURLToPath(serviceDir),
    env: { ...base, OFFSITE_OPS_PORT: '0', OFFSITE_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let resolveUrl: (u: string) => void = () => undefined;
  let rejectUrl: (e: Error) => void = () => undefined;
  const opsUrl = new Promise<string>((res, rej) => {
    resolveUrl = res;
    rejectUrl = rej;
  });
  opsUrl.catch(() => undefined);
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      logs.push(line);
      if (process.env.OFFSITE_TEST_DEBUG) process.stderr.write(`${line.slice(0, 400)}\n`);
      try {
        const j = JSON.parse(line) as { msg?: string; url?: string };
        if (j.msg === 'ops server listening' && j.url) resolveUrl(j.url);
      } catch {
        /* not JSON */
      }
    }
  });
  proc.stderr!.on('data', (d: Buffer) => logs.push(`[stderr] ${d.toString()}`));
  const exited = new Promise<number | null>((res) => proc.on('exit', (code) => res(code)));
  void exited.then(() =>
    rejectUrl(new Error(`service exited before listening:\n${logs.slice(-20).join('\n')}`)),
  );
  return {
    proc,
    opsUrl,
    logs,
    exited,
    async kill9() {
      proc.kill('SIGKILL');
      await exited;
    },
    async stop() {
      proc.kill('SIGTERM');
      return exited;
    },
  };
}

/** The HTTP status of `${opsUrl}/readyz`, or 0 when nothing answers. */
export async function readyStatus(opsUrl: string): Promise<number> {
  try {
    return (await fetch(`${opsUrl}/readyz`)).status;
  } catch {
    return 0;
  }
}
