import { readFile } from 'node:fs/promises';
import type pg from 'pg';
import { isRetryablePgError, StoreError } from './errors.js';
import { transaction } from './pg.js';
import type { Logger } from './logger.js';
import { formatRegistryIssues, parseRegistryFile, validateRegistry } from './registry-parse.js';
import type { RegistryCheckOptions } from './registry-check.js';
import type { GeoBounds } from './registry-geo.js';
import {
  upsertContact,
  upsertDevice,
  upsertDistrict,
  upsertEnterprise,
  upsertLimit,
  upsertMaintenanceWindow,
  upsertMeter,
  upsertMeterFacility,
  upsertOutlet,
  upsertOutletCamera,
  upsertOutletProductionMeter,
  upsertStatusEntry,
  upsertViolation,
  type UpsertOutcome,
} from './registry-repo.js';
import type { RegistryFile, RegistryFormat, RegistryIssue } from './registry-types.js';

export const REGISTRY_TABLES = [
  'districts',
  'enterprises',
  'enterprise_status_timeline',
  'outlets',
  'devices',
  'permit_limits',
  'meters',
  'meter_facilities',
  'outlet_production_meters',
  'outlet_cameras',
  'contacts',
  'violations',
  'maintenance_windows',
] as const;
export type RegistryTable = (typeof REGISTRY_TABLES)[number];

/** A registry file's text, already-parsed data (validated again), or a path (format from the extension). */
export type RegistrySource = { text: string; format: RegistryFormat } | { data: unknown } | { path: string };

export interface ImportOptions {
  logger: Logger;
  /** Delete registry rows that the file no longer lists (default: only report them). */
  prune?: boolean;
  /** Do everything in the transaction, then roll it back: the result says what an import would change. */
  dryRun?: boolean;
  /** Overwrite (and prune) rows edited in the console too (default: keep them and report conflicts). */
  overwriteConsoleEdits?: boolean;
  /** The city's bounds (configuration, OFFSITE_CITY_BOUNDS): a position outside them makes the file invalid. */
  cityBounds?: GeoBounds;
}

export interface TableCounts {
  inserted: number;
  updated: number;
  unchanged: number;
  deleted: number;
}

/** A row in the database that the file no longer lists; `key` is its id or its key columns joined by `/`. */
export interface RemovedItem {
  table: RegistryTable;
  key: string;
}

/** One row the import inserted, updated or (with prune) deleted; `key` as in RemovedItem. */
export interface RowChange {
  table: RegistryTable;
  key: string;
  change: 'inserted' | 'updated' | 'deleted';
}

/** A row edited in the console that the file would change or delete: kept as the console left it. */
export interface ImportConflict {
  table: RegistryTable;
  key: string;
  change: 'updated' | 'deleted';
  editedAt: string;
  editedBy: string;
  /** Whether the file's version was written anyway (`overwriteConsoleEdits`). */
  overwritten: boolean;
}

export interface ImportResult {
  counts: Record<RegistryTable, TableCounts>;
  /** Rows the console edited that the file disagrees with; kept unless `overwriteConsoleEdits`. */
  conflicts: ImportConflict[];
  /** Every row inserted, updated or deleted, in the order written. */
  changes: RowChange[];
  removed: RemovedItem[];
  pruned: boolean;
  /** Whether anything was written (or, in a dry run, would have been). */
  changed: boolean;
  dryRun: boolean;
}

/** Validation failure: `issues` lists every problem with its path. */
export class RegistryInvalidError extends StoreError {
  readonly issues: RegistryIssue[];
  constructor(issues: RegistryIssue[]) {
    super(
      'REGISTRY_INVALID',
      `registry file has ${issues.length} problem(s):\n${formatRegistryIssues(issues)}`,
      {
        retryable: false,
      },
    );
    this.issues = issues;
  }
}

/** Read a registry file from disk; `.json` is JSON, anything else YAML. */
export async function readRegistryFile(path: string): Promise<{ text: string; format: RegistryFormat }> {
  const text = await readFile(path, 'utf8');
  return { text, format: path.toLowerCase().endsWith('.json') ? 'json' : 'yaml' };
}

/** Validate, or throw RegistryInvalidError with every issue. */
export async function loadRegistry(
  source: RegistrySource,
  options: RegistryCheckOptions = {},
): Promise<RegistryFile> {
  let result;
  if ('data' in source) result = validateRegistry(source.data, options);
  else {
    const { text, format } = 'path' in source ? await readRegistryFile(source.path) : source;
    result = parseRegistryFile(text, format, options);
  }
  if (!result.ok) throw new RegistryInvalidError(result.issues);
  return result.registry;
}

/** Keys of every row the file describes, per table, in the form `currentKeys` returns them. */
function fileKeys(reg: RegistryFile): Record<RegistryTable, Set<string>> {
  const k = Object.fromEntries(REGISTRY_TABLES.map((t) => [t, new Set<string>()])) as Record<
    RegistryTable,
    Set<string>
  >;
  for (const d of reg.districts) k.districts.add(d.id);
  for (const e of reg.enterprises) {
    k.enterprises.add(e.id);
    for (const s of e.statusTimeline) k.enterprise_status_timeline.add(`${e.id}/${s.from}`);
    for (const o of e.outlets) {
      k.outlets.add(o.id);
      for (const d of o.devices) k.devices.add(d.mn);
      for (const l of o.limits) k.permit_limits.add(`${o.id}/${l.factor}/${l.basis}`);
      for (const m of o.productionMeters ?? []) k.outlet_production_meters.add(`${o.id}/${m}`);
      for (const c of o.cameras ?? []) k.outlet_cameras.add(`${c.platform}/${c.id}`);
    }
    for (const m of e.meters) {
      k.meters.add(m.id);
      for (const f of m.facilities ?? []) k.meter_facilities.add(`${m.id}/${f.outlet}/${f.code}`);
    }
    for (const c of e.contacts) k.contacts.add(`${e.id}/${c.role}/${c.name}`);
    for (const v of e.violations) k.violations.add(v.id);
    for (const w of e.maintenanceWindows) k.maintenance_windows.add(w.id);
  }
  return k;
}

// Key expressions per table, rendered like fileKeys renders them. Instants as UTC ISO with ms.
const KEY_SQL: Record<RegistryTable, { select: string; from: string }> = {
  districts: { select: 'id', from: 'districts' },
  enterprises: { select: 'id', from: 'enterprises' },
  enterprise_status_timeline: {
    select: `enterprise_id || '/' || to_char(effective_from at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
    from: 'enterprise_status_timeline',
  },
  outlets: { select: 'id', from: 'outlets' },
  devices: { select: 'mn', from: 'devices' },
  permit_limits: { select: `outlet_id || '/' || factor_code || '/' || basis`, from: 'permit_limits' },
  meters: { select: 'id', from: 'meters' },
  meter_facilities: { select: `meter_id || '/' || outlet_id || '/' || code`, from: 'meter_facilities' },
  outlet_production_meters: { select: `outlet_id || '/' || meter_id`, from: 'outlet_production_meters' },
  outlet_cameras: { select: `platform || '/' || camera_id`, from: 'outlet_cameras' },
  contacts: { select: `enterprise_id || '/' || role || '/' || name`, from: 'contacts' },
  violations: { select: 'id', from: 'violations' },
  // Windows declared in the console are not the file's to remove.
  maintenance_windows: { select: 'id', from: `maintenance_windows where source = 'registry'` },
};

// Children before parents, so a prune never trips a foreign key.
const DELETE_ORDER: readonly RegistryTable[] = [
  'meter_facilities',
  'outlet_production_meters',
  'outlet_cameras',
  'maintenance_windows',
  'violations',
  'contacts',
  'meters',
  'permit_limits',
  'devices',
  'outlets',
  'enterprise_status_timeline',
  'enterprises',
  'districts',
];

/**
 * Validate the whole file, then upsert everything in one transaction. Importing the same file
 * twice changes nothing. Rows the file no longer lists are reported, and deleted only with `prune`.
 * Concurrent imports into one schema are serialised by an advisory lock.
 */
export async function importRegistry(
  pool: pg.Pool,
  source: RegistrySource,
  options: ImportOptions,
): Promise<ImportResult> {
  const log = options.logger.child({ component: 'store.registry-import' });
  const reg = await loadRegistry(source, options.cityBounds ? { cityBounds: options.cityBounds } : {});
  const prune = options.prune === true;

  const counts = Object.fromEntries(
    REGISTRY_TABLES.map((t) => [t, { inserted: 0, updated: 0, unchanged: 0, deleted: 0 }]),
  ) as Record<RegistryTable, TableCounts>;
  const changes: RowChange[] = [];
  const conflicts: ImportConflict[] = [];
  const overwrite = options.overwriteConsoleEdits === true;
  let edits = new Map<string, { editedAt: string; editedBy: string }>();
  const editKey = (t: RegistryTable, key: string) => `${t}|${key}`;
  let client!: pg.PoolClient;
  // A row the console edited is written in a savepoint: if the file would change it, the change is
  // rolled back (kept as the console left it) and reported; if the file agrees, the mark is dropped.
  const tally = async (t: RegistryTable, upsert: () => Promise<UpsertOutcome>, key: string) => {
    const edit = edits.get(editKey(t, key));
    if (edit) await client.query('savepoint console_edit');
    const o = await upsert();
    if (edit && o === 'updated') {
      conflicts.push({ table: t, key, change: 'updated', ...edit, overwritten: overwrite });
      if (!overwrite) {
        await client.query('rollback to savepoint console_edit');
        counts[t].unchanged += 1;
        return;
      }
    }
    if (edit) {
      await client.query('release savepoint console_edit');
      await client.query('delete from registry_console_edits where table_name = $1 and key = $2', [t, key]);
    }
    counts[t][o] += 1;
    if (o !== 'unchanged') changes.push({ table: t, key, change: o });
  };

  const dryRun = options.dryRun === true;
  let connected = false;
  let removed: RemovedItem[];
  try {
    removed = await transaction(
      pool,
      async (c) => {
        client = c;
        connected = true;
        await client.query(
          `select pg_advisory_xact_lock(hashtext('offsite.store.registry-import:' || current_schema()))`,
        );
        const marks = await client.query<{
          table_name: RegistryTable;
          key: string;
          edited_at: Date;
          edited_by: string;
        }>('select table_name, key, edited_at, edited_by from registry_console_edits');
        edits = new Map(
          marks.rows.map((m) => [
            editKey(m.table_name, m.key),
            { editedAt: m.edited_at.toISOString(), editedBy: m.edited_by },
          ]),
        );

        for (const d of reg.districts) await tally('districts', () => upsertDistrict(client, d), d.id);
        for (const e of reg.enterprises) {
          await tally('enterprises', () => upsertEnterprise(client, e), e.id);
          for (const s of e.statusTimeline)
            await tally(
              'enterprise_status_timeline',
              () => upsertStatusEntry(client, e.id, s),
              `${e.id}/${s.from}`,
            );
          for (const o of e.outlets) {
            await tally('outlets', () => upsertOutlet(client, e.id, o), o.id);
            for (const d of o.devices) await tally('devices', () => upsertDevice(client, o.id, d), d.mn);
            for (const l of o.limits)
              await tally(
                'permit_limits',
                () => upsertLimit(client, o.id, l),
                `${o.id}/${l.factor}/${l.basis}`,
              );
          }
          // Production meters first: a treatment meter references the meter it serves.
          const meters = [...e.meters].sort(
            (a, b) => Number(a.serves !== undefined) - Number(b.serves !== undefined),
          );
          for (const m of meters) await tally('meters', () => upsertMeter(client, e.id, m), m.id);
          // Links last: they reference this enterprise's meters and outlets.
          for (const m of e.meters)
            for (const f of m.facilities ?? [])
              await tally(
                'meter_facilities',
                () => upsertMeterFacility(client, m.id, f),
                `${m.id}/${f.outlet}/${f.code}`,
              );
          for (const o of e.outlets)
            for (const pm of o.productionMeters ?? [])
              await tally(
                'outlet_production_meters',
                () => upsertOutletProductionMeter(client, o.id, pm),
                `${o.id}/${pm}`,
              );
          for (const o of e.outlets)
            for (const cam of o.cameras ?? [])
              await tally(
                'outlet_cameras',
                () => upsertOutletCamera(client, o.id, cam),
                `${cam.platform}/${cam.id}`,
              );
          for (const c of e.contacts)
            await tally('contacts', () => upsertContact(client, e.id, c), `${e.id}/${c.role}/${c.name}`);
          for (const v of e.violations)
            await tally('violations', () => upsertViolation(client, e.id, v), v.id);
          for (const w of e.maintenanceWindows)
            await tally('maintenance_windows', () => upsertMaintenanceWindow(client, e.id, w), w.id);
        }

        const wanted = fileKeys(reg);
        const removed: RemovedItem[] = [];
        for (const table of REGISTRY_TABLES) {
          const { select, from } = KEY_SQL[table];
          const res = await client.query<{ key: string }>(`select ${select} as key from ${from} order by 1`);
          for (const { key } of res.rows) {
            if (wanted[table].has(key)) continue;
            const edit = edits.get(editKey(table, key));
            // Added or edited in the console: reported, never pruned (unless overwriting).
            if (edit && prune)
              conflicts.push({ table, key, change: 'deleted', ...edit, overwritten: overwrite });
            if (!edit || overwrite || !prune) removed.push({ table, key });
          }
        }

        if (prune) {
          for (const table of DELETE_ORDER) {
            const keys = removed.filter((r) => r.table === table).map((r) => r.key);
            if (keys.length === 0) continue;
            const { select, from } = KEY_SQL[table];
            const where = from.includes(' where ') ? `${from} and` : `${from} where`;
            const res = await client.query<{ key: string }>(
              `delete from ${where} ${select} = any($1::text[]) returning ${select} as key`,
              [keys],
            );
            counts[table].deleted = res.rowCount ?? 0;
            for (const { key } of res.rows) changes.push({ table, key, change: 'deleted' });
          }
        }
        return removed;
      },
      { rollback: dryRun },
    );
  } catch (err) {
    if (err instanceof StoreError && err.code !== 'QUERY_FAILED') throw err;
    const message = connected
      ? `registry import rolled back: ${(err as Error).message}`
      : 'cannot connect to Postgres to import the registry';
    throw new StoreError('REGISTRY_IMPORT_FAILED', message, {
      retryable: err instanceof StoreError ? err.retryable : isRetryablePgError(err),
      cause: err,
    });
  }
  const changed = REGISTRY_TABLES.some((t) => counts[t].inserted + counts[t].updated + counts[t].deleted > 0);
  const summary = Object.fromEntries(REGISTRY_TABLES.map((t) => [t, counts[t]]));
  log.info(
    { counts: summary, removed: removed.length, pruned: prune, changed, dryRun },
    dryRun ? 'registry import checked (dry run, rolled back)' : 'registry imported',
  );
  if (removed.length > 0 && !prune && !dryRun) {
    log.warn({ removed }, 'registry rows no longer in the file were kept; import with prune to delete them');
  }
  if (conflicts.length > 0)
    log.warn(
      {
        conflicts: conflicts.map(({ table, key, change, overwritten }) => ({
          table,
          key,
          change,
          overwritten,
        })),
      },
      overwrite
        ? 'registry rows edited in the console were overwritten by the file'
        : 'registry rows edited in the console were kept; the file disagrees with them',
    );
  return { counts, changes, conflicts, removed, pruned: prune, changed, dryRun };
}
