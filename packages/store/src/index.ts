export { StoreError, isRetryablePgError, type StoreErrorCode } from './errors.js';
export {
  createPgClient,
  createPgPool,
  pgConfig,
  transaction,
  type PgConnectionOptions,
  type PgPoolOptions,
} from './pg.js';
export type { Logger, Queryable } from './logger.js';
export {
  checkCreditCode,
  creditCodeCheckCharacter,
  isValidCreditCode,
  type CreditCodeProblem,
} from './credit-code.js';
export {
  defaultMigrationsDir,
  loadMigrations,
  runMigrations,
  type Migration,
  type MigrateOptions,
  type MigrateResult,
} from './migrate.js';
export * from './registry-types.js';
export { parseRegistryFile, validateRegistry, formatRegistryIssues } from './registry-parse.js';
export {
  REGISTRY_TABLES,
  RegistryInvalidError,
  importRegistry,
  loadRegistry,
  readRegistryFile,
  type ImportConflict,
  type ImportOptions,
  type ImportResult,
  type RegistrySource,
  type RegistryTable,
  type RemovedItem,
  type RowChange,
  type TableCounts,
} from './registry-import.js';
export {
  findDeviceByMn,
  listContacts,
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
  type Contact,
  type DeviceAuth,
  type UpsertOutcome,
} from './registry-repo.js';
export {
  loadRegistrySnapshot,
  type RegistrySnapshot,
  type SnapshotDevice,
  type SnapshotEnterprise,
  type SnapshotLimit,
  type SnapshotMaintenanceWindow,
  type SnapshotMeter,
  type SnapshotOutlet,
  type SnapshotStatusEntry,
} from './registry-snapshot.js';
export {
  listenRegistryChanges,
  startRegistryListener,
  REGISTRY_CHANNEL,
  type RegistryChange,
  type RegistryListenerOptions,
} from './registry-listen.js';
export { listenChannel, startListener, type Listener, type ListenerOptions } from './listener.js';
export { indexRegistry, type DeviceEntry, type MeterEntry, type RegistryIndex } from './registry-index.js';
export { createRegistryCache, type RegistryCache, type RegistryCacheOptions } from './registry-cache.js';
export { markConsoleEdit } from './registry-edits.js';
export {
  cityBoundsFrom,
  formatBounds,
  inBounds,
  positionProblem,
  type GeoBounds,
  type GeoPosition,
} from './registry-geo.js';
export type { RegistryCheckOptions } from './registry-check.js';
