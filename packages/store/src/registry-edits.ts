import type { Queryable } from './logger.js';
import type { RegistryTable } from './registry-import.js';

/**
 * Marks a registry row as edited in the console (inside the edit's transaction): the next import
 * reports a conflict instead of overwriting it, until the file carries the same values. `key` is
 * rendered as the importer renders it (`mn`, `outlet/factor/basis`, `enterprise/role/name`, an
 * instant as UTC ISO with milliseconds…).
 */
export async function markConsoleEdit(
  db: Queryable,
  table: RegistryTable,
  key: string,
  editedBy: string,
): Promise<void> {
  await db.query(
    `insert into registry_console_edits (table_name, key, edited_by) values ($1, $2, $3)
     on conflict (table_name, key) do update set edited_at = now(), edited_by = excluded.edited_by`,
    [table, key, editedBy],
  );
}
