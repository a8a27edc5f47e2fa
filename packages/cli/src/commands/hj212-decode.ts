/** `offsite hj212 decode [FILE|-] [--strict]`: one JSON object per packet line. */
import { decodePacket, versionOfFlag, type DecodeResult } from '@offsite/hj212';
import { EXIT_INPUT_PROBLEM, EXIT_OK, type CliIo, type Command } from '../command.js';
import { openSource, packetLines, parsePacketInputArgs } from '../input.js';

/** The JSON printed for one packet (stable field order, documented in docs/cli-hj212.md). */
export function decodeReport(lineNo: number, result: DecodeResult): Record<string, unknown> {
  const crc = result.ok ? result.packet.crc : result.crc;
  const h = result.ok ? result.packet : result.header;
  const p = result.ok ? result.packet : undefined;
  return {
    line: lineNo,
    ok: result.ok,
    ...(result.ok ? {} : { error: { code: result.error.code, message: result.error.message } }),
    crc: crc ? { valid: crc.valid, expected: crc.expected, actual: crc.actual, variant: crc.variant } : null,
    // A rejected packet still shows the version its Flag names.
    version: p ? p.version : versionOfFlag(h?.flag ?? null),
    qn: h?.qn ?? null,
    st: h?.st ?? null,
    cn: h?.cn ?? null,
    pw: h?.pw ?? null,
    mn: h?.mn ?? null,
    flag: h?.flag ?? null,
    ackRequested: p?.ackRequested ?? (h?.flag !== null && h?.flag !== undefined ? (h.flag & 1) === 1 : false),
    pnum: h?.pnum ?? null,
    pno: h?.pno ?? null,
    dataTime: p?.dataTime ?? null,
    dataTimeUtc: p?.dataTimeUtc ?? null,
    values: p?.values ?? [],
    flags: p?.flags ?? {},
    texts: p?.texts ?? [],
    params: p?.params ?? {},
    irregularities: result.ok ? result.packet.irregularities : (result.irregularities ?? []),
  };
}

export const hj212DecodeCommand: Command = {
  path: ['hj212', 'decode'],
  summary: 'decode HJ 212 packets (one per line) into JSON lines',
  usage: [
    'Usage: offsite hj212 decode [FILE|-] [--strict]',
    '',
    'Reads one HJ 212 packet per line from FILE or standard input (CR LF optional; blank lines and',
    'comments, "#" followed by anything but "#" or a digit, are skipped) and prints one JSON object per',
    'packet. A line of "#" and digits (a frame that lost a "#") is reported as rejected.',
    '  --strict   reject every irregularity (default: accept and list them in "irregularities")',
    'Exit code: 0 all packets decoded, 1 some packet failed, 2 usage error.',
  ].join('\n'),
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { source, strict } = parsePacketInputArgs(args);
    const input = await openSource(source, io.stdin);
    let failed = 0;
    for await (const { lineNo, text } of packetLines(input)) {
      const result = decodePacket(text, { policy: strict ? 'strict' : 'tolerant' });
      if (!result.ok) failed++;
      io.stdout.write(`${JSON.stringify(decodeReport(lineNo, result))}\n`);
    }
    return failed > 0 ? EXIT_INPUT_PROBLEM : EXIT_OK;
  },
};
