/** Subcommand dispatcher: picks the command whose path matches the leading words, prints help. */
import { EXIT_OK, EXIT_USAGE, UsageError, type CliIo, type Command } from './command.js';

function matchLength(command: Command, argv: readonly string[]): number {
  const { path } = command;
  return path.every((w, i) => argv[i] === w) ? path.length : 0;
}

function helpText(commands: readonly Command[], prefix: readonly string[]): string {
  const shown = commands.filter((c) => prefix.every((w, i) => c.path[i] === w));
  const width = Math.max(...shown.map((c) => c.path.join(' ').length), 0);
  const lines = shown.map((c) => `  offsite ${c.path.join(' ').padEnd(width)}  ${c.summary}`);
  return `Usage: offsite <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "offsite <command> --help" for a command's options.\n`;
}

export async function dispatch(
  argv: readonly string[],
  io: CliIo,
  commands: readonly Command[],
): Promise<number> {
  let best: Command | undefined;
  let bestLength = 0;
  for (const c of commands) {
    const n = matchLength(c, argv);
    if (n > bestLength) [best, bestLength] = [c, n];
  }
  if (!best) {
    const wantsHelp = argv.includes('--help') || argv.includes('-h') || argv[0] === 'help';
    const prefix = argv.filter((a) => !a.startsWith('-') && a !== 'help');
    const known = commands.some((c) => prefix.every((w, i) => c.path[i] === w));
    if (wantsHelp && known) {
      io.stdout.write(helpText(commands, prefix));
      return EXIT_OK;
    }
    io.stderr.write(
      `offsite: unknown command "${argv.join(' ')}"\n\n${helpText(commands, known ? prefix : [])}`,
    );
    return EXIT_USAGE;
  }
  const args = argv.slice(bestLength);
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(`${best.usage}\n`);
    return EXIT_OK;
  }
  try {
    return await best.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`offsite ${best.path.join(' ')}: ${error.message}\n\n${best.usage}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
}
