/** The commands `offsite` knows. To add one: write commands/<name>.ts and list it here. */
import type { Command } from './command.js';
import { analyzeCommand } from './commands/analyze.js';
import { backupKafkaCommand, restoreKafkaCommand } from './commands/kafka-backup.js';
import { configCheckCommand } from './commands/config-check.js';
import { hj212AckCommand } from './commands/hj212-ack.js';
import { hj212DecodeCommand } from './commands/hj212-decode.js';
import { migrateCommand } from './commands/migrate.js';
import { registryImportCommand } from './commands/registry-import.js';
import { remoteSensingImportCommand } from './commands/remote-sensing.js';
import { userAddCommand, userDisableCommand, userResetPasswordCommand } from './commands/user.js';

export const COMMANDS: readonly Command[] = [
  hj212DecodeCommand,
  hj212AckCommand,
  analyzeCommand,
  migrateCommand,
  registryImportCommand,
  remoteSensingImportCommand,
  userAddCommand,
  userDisableCommand,
  userResetPasswordCommand,
  configCheckCommand,
  backupKafkaCommand,
  restoreKafkaCommand,
];
