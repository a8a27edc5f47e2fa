/** `offsite hj212 ack [FILE|-] [--strict]`: the reply a centre sends to each packet, as a frame line. */
import { decideReply, decodePacket, encodePacketLine } from '@offsite/hj212';
import { EXIT_INPUT_PROBLEM, EXIT_OK, type CliIo, type Command } from '../command.js';
import { openSource, packetLines, parsePacketInputArgs } from '../input.js';

export const hj212AckCommand: Command = {
  path: ['hj212', 'ack'],
  summary: 'print the reply a centre sends to each HJ 212 packet (9011/9013/9014)',
  usage: [
    'Usage: offsite hj212 ack [FILE|-] [--strict]',
    '',
    'Reads one HJ 212 packet per line (like "decode") and prints, per packet, the reply frame the',
    'centre sends: 9014 for data uploads that ask for an acknowledgement (Flag bit A), 9013 for',
    'notifications, 9011 QnRtn=1 for requests, 9011 with an error QnRtn for packets it rejects.',
    'A packet that gets no reply prints a "# line N: no reply: <reason>" comment line instead.',
    '  --strict   reject every irregularity (default: accept them)',
    'Exit code: 0 all packets decoded, 1 some packet failed, 2 usage error.',
  ].join('\n'),
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { source, strict } = parsePacketInputArgs(args);
    const input = await openSource(source, io.stdin);
    let failed = 0;
    for await (const { lineNo, text } of packetLines(input)) {
      const result = decodePacket(text, { policy: strict ? 'strict' : 'tolerant' });
      if (!result.ok) failed++;
      const decision = decideReply(result);
      io.stdout.write(
        decision.reply
          ? `${encodePacketLine(decision.reply)}\n`
          : `# line ${lineNo}: no reply: ${decision.reason}\n`,
      );
    }
    return failed > 0 ? EXIT_INPUT_PROBLEM : EXIT_OK;
  },
};
