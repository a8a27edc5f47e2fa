#!/usr/bin/env node
/** Composition root of the `offsite` CLI: wires the process's streams to the dispatcher. */
import { dispatch } from './dispatch.js';
import { COMMANDS } from './registry.js';

// `offsite … | head` closes the pipe early: stop quietly instead of crashing on EPIPE.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await dispatch(
  process.argv.slice(2),
  { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env },
  COMMANDS,
);
