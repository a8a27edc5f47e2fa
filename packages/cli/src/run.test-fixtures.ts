/** Runs `offsite ARGV…` in-process for tests: standard input from a string, output collected. */
import { Readable } from 'node:stream';
import type { CliIo } from './command.js';
import { dispatch } from './dispatch.js';
import { COMMANDS } from './registry.js';

export async function runCli(
  argv: string[],
  stdin = '',
  env: CliIo['env'] = {},
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdin: Readable.from([stdin]),
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env,
  };
  return { code: await dispatch(argv, io, COMMANDS), out, err };
}
