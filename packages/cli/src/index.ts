/** The `offsite` CLI as a library: the dispatcher and the command contract, for tests and extensions. */
export { dispatch } from './dispatch.js';
export { COMMANDS } from './registry.js';
export { EXIT_CONFIG, EXIT_INPUT_PROBLEM, EXIT_OK, EXIT_USAGE, UsageError } from './command.js';
export type { CliIo, Command, TextSink } from './command.js';
