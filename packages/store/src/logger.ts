import type pg from 'pg';

/** The pino-style logger the store takes as a parameter (pino's Logger satisfies it). */
export interface StoreLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): StoreLogger;
}

/** Anything that runs a parameterised query: a `pg.Pool`, a `pg.PoolClient` or a `pg.Client`. */
export type Queryable = Pick<pg.ClientBase, 'query'>;
