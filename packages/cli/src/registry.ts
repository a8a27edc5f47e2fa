/** The commands `offsite` knows. To add one: write commands/<name>.ts and list it here. */
import type { Command } from './command.js';
import { analyzeCommand } from './commands/analyze.js';
import { hj212AckCommand } from './commands/hj212-ack.js';
import { hj212DecodeCommand } from './commands/hj212-decode.js';

export const COMMANDS: readonly Command[] = [hj212DecodeCommand, hj212AckCommand, analyzeCommand];
