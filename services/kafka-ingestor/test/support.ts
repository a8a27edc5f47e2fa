// Integration-test support: run the service as a real child process, read its ops URL from its
// log, query InfluxDB over InfluxQL, and a TCP proxy the test can cut to simulate an outage.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface ServiceProcess {
  proc: ChildProcess;
  opsUrl: Promise<string>;
  logs: string[];
  exited: Promise<number | null>;
  kill9(): Promise<void>;
  stop(): Promise<number | null>;
}

const serviceDir = fileURLToPath(new URL('..', import.meta.url));

export function runService(env: Record<string, string>): ServiceProcess {
  const base = { ...process.env };
  delete base.NODE_OPTIONS; // jest's --experimental-vm-modules is not for the service
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: serviceDir,
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

export async function readyStatus(opsUrl: string): Promise<number> {
  try {
    return (await fetch(`${opsUrl}/readyz`)).status;
  } catch {
    return 0;
  }
}

/** Runs InfluxQL on InfluxDB 1.x's /query and returns the first series' rows as objects. */
export async function influxql(
  url: string,
  token: string,
  db: string,
  q: string,
): Promise<Record<string, unknown>[]> {
  const res = await fetch(`${url}/query?db=${encodeURIComponent(db)}&epoch=s&q=${encodeURIComponent(q)}`, {
    method: 'POST',
    headers: token ? { authorization: `Token ${token}` } : {},
  });
  if (!res.ok) throw new Error(`InfluxQL ${q}: HTTP ${res.status} ${await res.text()}`);
  const body = (await res.json()) as {
    results: {
      error?: string;
      series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[];
    }[];
  };
  const r = body.results[0];
  if (r?.error) throw new Error(`InfluxQL ${q}: ${r.error}`);
  const rows: Record<string, unknown>[] = [];
  for (const s of r?.series ?? []) {
    for (const v of s.values) {
      const row: Record<string, unknown> = { _measurement: s.name, ...(s.tags ?? {}) };
      s.columns.forEach((c, i) => (row[c] = v[i]));
      rows.push(row);
    }
  }
  return rows;
}

/** A loopback TCP proxy to `target`; cut() refuses and drops connections, restore() accepts again. */
export interface CuttableProxy {
  url: string;
  port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startProxy(targetHost: string, targetPort: number): Promise<CuttableProxy> {
  const sockets = new Set<Socket>();
  let server: Server;
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect(targetPort, targetHost);
        sockets.add(client);
        sockets.add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        client.pipe(upstream).pipe(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const a = server.address();
        resolve(typeof a === 'object' && a ? a.port : port);
      });
    });
  const port = await listen(0);
  const closeServer = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      server.close(() => resolve());
    });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    cut: closeServer,
    async restore() {
      await listen(port);
    },
    close: closeServer,
  };
}
