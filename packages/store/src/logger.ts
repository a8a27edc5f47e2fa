import type pg from 'pg';

/** The project's one Logger type (a pino logger satisfies it). */
export type { Logger } from '@offsite/runtime/logger';

/** Anything that runs a parameterised query: a `pg.Pool`, a `pg.PoolClient` or a `pg.Client`. */
export type Queryable = Pick<pg.ClientBase, 'query'>;
