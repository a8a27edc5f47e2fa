/** Reading packet lines from a file or stdin (capture files: one packet per line, `#` comments). */
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { UsageError } from './command.js';

export interface PacketLine {
  /** 1-based line number in the input. */
  readonly lineNo: number;
  readonly text: string;
}

/**
 * Whether a line is a comment: `#` followed by anything but `#` or a digit. A `#` followed by digits
 * is a frame that lost one `#` and is reported as a rejected packet, not skipped.
 */
export function isCommentLine(text: string): boolean {
  return text.startsWith('#') && !/^#[#0-9]/.test(text);
}

/** Lines holding packets: CR LF optional; blank lines and comments (see `isCommentLine`) skipped. */
export async function* packetLines(input: Readable): AsyncGenerator<PacketLine> {
  const rl = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  for await (const raw of rl) {
    lineNo++;
    const text = raw.replace(/\r$/, '');
    if (text.trim() === '') continue;
    if (isCommentLine(text)) continue;
    yield { lineNo, text };
  }
}

export interface PacketInputArgs {
  readonly source: string;
  readonly strict: boolean;
}

/** `[FILE|-] [--strict]` */
export function parsePacketInputArgs(args: readonly string[]): PacketInputArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { strict: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (cause) {
    throw new UsageError(cause instanceof Error ? cause.message : String(cause), { cause });
  }
  if (parsed.positionals.length > 1) throw new UsageError('give at most one FILE (or - for standard input)');
  return { source: parsed.positionals[0] ?? '-', strict: parsed.values.strict ?? false };
}

export async function openSource(source: string, stdin: Readable): Promise<Readable> {
  if (source === '-') return stdin;
  try {
    await access(source);
  } catch (cause) {
    throw new UsageError(`cannot read ${source}`, { cause });
  }
  return createReadStream(source);
}
