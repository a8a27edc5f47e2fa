/** The project's one Logger type (a pino logger satisfies it). */
export type { Logger } from '@offsite/runtime/logger';
