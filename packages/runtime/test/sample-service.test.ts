// Runs examples/main.ts as a real process and sends it real signals: the composition the README
// shows must shut down gracefully and exit with a truthful code.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../examples/main.ts', import.meta.url));

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitFor: (text: string) => Promise<void>;
}

function runSample(env: Record<string, string>): Running {
  const { NODE_OPTIONS: _jestOptions, ...parentEnv } = process.env;
  const child = spawn(process.execPath, ['--conditions=offsite-source', '--import', 'tsx', main], {
    env: { ...parentEnv, OFFSITE_OPS_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners: (() => void)[] = [];
  const onData = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const waitFor = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => output.includes(text) && resolve();
      listeners.push(check);
      check();
      void exited.then(() => reject(new Error(`exited before "${text}":\n${output}`)));
    });
  return { child, output: () => output, exited, waitFor };
}

describe('sample service process', () => {
  it('SIGTERM: graceful shutdown, exit 0', async () => {
    const sample = runSample({ OFFSITE_DEMO_TOKEN: 'token-secret-value' });
    await sample.waitFor('all components started');
    // The ops server came up first and answers /livez; the logged configuration hides the secret.
    const url = /"url":"(http:[^"]+)"/.exec(sample.output())?.[1];
    expect(url).toBeDefined();
    expect((await fetch(`${url}/livez`)).status).toBe(200);
    expect(sample.output()).toContain('configuration loaded');
    expect(sample.output()).not.toContain('token-secret-value');
    sample.child.kill('SIGTERM');
    await expect(sample.exited).resolves.toEqual({ code: 0, signal: null });
    expect(sample.output()).toContain('shutdown complete');
  }, 20_000);

  it('a hanging stop under one signal: abandoned at its deadline, exit 1', async () => {
    const sample = runSample({ OFFSITE_DEMO_HANG_ON_STOP: 'true', OFFSITE_STEP_DEADLINE_MS: '200' });
    await sample.waitFor('all components started');
    sample.child.kill('SIGINT');
    await expect(sample.exited).resolves.toEqual({ code: 1, signal: null });
    expect(sample.output()).toContain('stop step exceeded its deadline; abandoned');
  }, 20_000);

  it('a second signal exits at once with 143', async () => {
    const sample = runSample({ OFFSITE_DEMO_HANG_ON_STOP: 'true' });
    await sample.waitFor('all components started');
    sample.child.kill('SIGTERM');
    await sample.waitFor('shutdown began');
    sample.child.kill('SIGTERM');
    await expect(sample.exited).resolves.toEqual({ code: 143, signal: null });
  }, 20_000);

  it('bad configuration: every problem on stderr, exit 78, nothing started', async () => {
    const sample = runSample({
      OFFSITE_OPS_PORT: 'x',
      OFFSITE_LOG_LEVEL: 'loud',
      OFFSITE_DEMO_TOKEN: 'short',
    });
    await expect(sample.exited).resolves.toEqual({ code: 78, signal: null });
    const output = sample.output();
    expect(output).toContain('3 problems');
    for (const name of ['OFFSITE_OPS_PORT', 'OFFSITE_LOG_LEVEL', 'OFFSITE_DEMO_TOKEN'])
      expect(output).toContain(name);
    expect(output).not.toContain('"short"');
    expect(output).not.toContain('starting');
  }, 20_000);
});
