// Offline for registered devices that have never reported (the domain's `silentSince`): a scheduled round over
// the registry's enabled devices and `analyzer_device_watch`. A device gets its row when first watched; its first
// report is marked by the partitions' checkpoints (`recordDeviceReports`). A silent device past its threshold gets
// an `offline` deviation (deviation.v1, then the deviation log, then its row), resolved when it reports or is
// disabled or removed. The Kafka hand-off comes first: a crash before the row is updated re-emits the same id and
// revision, which consumers de-duplicate.
import type { DeviationV1 } from '@offsite/contracts';
import {
  deviationId,
  offlineThresholdMs,
  rulesFor,
  shutdownPeriods,
  silentSince,
  type DeviationOutput,
  type EngineConfig,
  type QuietPeriod,
} from '@offsite/domain';
import type { Logger } from '@offsite/runtime';
import { OffsiteError } from '@offsite/runtime/errors';
import type { RegistrySnapshot } from '@offsite/store';
import { recordDeviations, type Db } from './analyzer-db.js';
import { deviationEvent } from './deviation-event.js';
import { deviceView } from './registry-view.js';

export interface SilentDevicesOptions {
  db: Db;
  engineConfig: EngineConfig;
  /** Produces deviation.v1 events durably before resolving. */
  emit(events: DeviationV1[]): Promise<void>;
  logger: Logger;
}

interface Watched {
  mn: string;
  enterpriseId: string;
  siteId: string;
  thresholdMs: number;
  cadenceSeconds: number;
  enabled: boolean;
  quiet: QuietPeriod[];
}

interface WatchRow {
  device_id: string;
  enterprise_id: string;
  site_id: string;
  watch_from: Date;
  reported_at: Date | null;
  deviation_id: string | null;
  revision: number;
  window_start: Date | null;
  state: 'opened' | 'resolved' | null;
}

async function q<R extends object>(db: Db, op: string, sql: string, params: unknown[]): Promise<R[]> {
  try {
    return (await db.query(sql, params)).rows as R[];
  } catch (err) {
    throw new OffsiteError('ANALYZER_DB_FAILED', `${op} failed: ${(err as Error).message}`, {
      retryable: true,
      cause: err,
    });
  }
}

/** The registry's devices (enabled or not) with their offline threshold and quiet periods. */
function registryDevices(snapshot: RegistrySnapshot, cfg: EngineConfig): Map<string, Watched> {
  const out = new Map<string, Watched>();
  for (const e of snapshot.enterprises) {
    const shutdown = shutdownPeriods(
      e.statusTimeline.map((s) => ({ status: s.status, from: Date.parse(s.from) })),
    );
    if (e.statusTimeline.length === 0 && e.status === 'shutdown')
      shutdown.push({ start: -Infinity, end: Infinity });
    for (const o of e.outlets) {
      for (const d of o.devices) {
        const view = deviceView(d, o.id);
        const maintenance = e.maintenanceWindows
          .filter((w) =>
            w.deviceMn === null ? w.outletId === null || w.outletId === o.id : w.deviceMn === d.mn,
          )
          .map((w) => ({ start: Date.parse(w.from), end: Date.parse(w.to) }));
        out.set(d.mn, {
          mn: d.mn,
          enterpriseId: e.id,
          siteId: o.id,
          thresholdMs: offlineThresholdMs(rulesFor(cfg, e.id, o.id), view),
          cadenceSeconds: view.cadenceSeconds,
          enabled: d.enabled,
          quiet: [...shutdown, ...maintenance],
        });
      }
    }
  }
  return out;
}

function output(
  w: Watched | undefined,
  row: WatchRow,
  cfg: EngineConfig,
  change: { state: 'opened'; since: number } | { state: 'resolved'; at: number; reason: string },
): DeviationOutput {
  const start = change.state === 'opened' ? change.since : row.window_start!.getTime();
  return {
    type: 'deviation',
    id: row.deviation_id ?? deviationId(row.enterprise_id, row.site_id, 'offline', row.device_id, start),
    rule: 'offline',
    state: change.state,
    revision: row.revision + 1,
    severity: rulesFor(cfg, row.enterprise_id, row.site_id).offline.severity,
    enterpriseId: row.enterprise_id,
    siteId: row.site_id,
    subject: row.device_id,
    windowStart: start,
    ...(change.state === 'resolved' ? { windowEnd: Math.max(start, change.at) } : {}),
    suspectedFalsification: false,
    inResumptionWindow: false,
    evidence: {
      deviceId: row.device_id,
      neverReported: true,
      watchingSince: row.watch_from.getTime(),
      ...(w ? { thresholdMs: w.thresholdMs, cadenceSeconds: w.cadenceSeconds } : {}),
      ...(change.state === 'resolved'
        ? change.reason === 'reported'
          ? { resumedAt: change.at }
          : { endedBy: change.reason }
        : {}),
    },
  };
}

/** One round at `now`: watch new devices, open and resolve the offline deviations of devices that never reported. */
export async function runSilentDevicesJob(
  opts: SilentDevicesOptions,
  snapshot: RegistrySnapshot,
  now: number,
): Promise<{ opened: number; resolved: number }> {
  const devices = registryDevices(snapshot, opts.engineConfig);
  const enabled = [...devices.values()].filter((d) => d.enabled);
  // Watched from now, or from the registration when later (a device registered while the round runs).
  await q(
    opts.db,
    'watch devices',
    `insert into analyzer_device_watch (device_id, enterprise_id, site_id, watch_from)
     select x.device_id, x.enterprise_id, x.site_id, greatest($2::timestamptz, d.created_at)
       from jsonb_to_recordset($1::jsonb) as x(device_id text, enterprise_id text, site_id text)
       left join devices d on d.mn = x.device_id
     on conflict (device_id) do nothing`,
    [
      JSON.stringify(
        enabled.map((d) => ({ device_id: d.mn, enterprise_id: d.enterpriseId, site_id: d.siteId })),
      ),
      new Date(now).toISOString(),
    ],
  );
  const rows = await q<WatchRow>(
    opts.db,
    'load watched devices',
    `select device_id, enterprise_id, site_id, watch_from, reported_at, deviation_id, revision, window_start, state
       from analyzer_device_watch where reported_at is null or state = 'opened'`,
    [],
  );
  const changes: { row: WatchRow; out: DeviationOutput; drop: boolean }[] = [];
  for (const row of rows) {
    const w = devices.get(row.device_id);
    const active = w?.enabled === true;
    if (row.state === 'opened') {
      if (row.reported_at !== null)
        changes.push({
          row,
          out: output(w, row, opts.engineConfig, {
            state: 'resolved',
            at: row.reported_at.getTime(),
            reason: 'reported',
          }),
          drop: false,
        });
      else if (!active)
        changes.push({
          row,
          out: output(w, row, opts.engineConfig, {
            state: 'resolved',
            at: now,
            reason: w ? 'device-disabled' : 'device-removed',
          }),
          drop: true,
        });
      continue;
    }
    if (row.state === 'resolved') continue;
    if (!active) {
      // Disabled before it was flagged: enabling it again restarts the clock.
      await q(
        opts.db,
        'unwatch device',
        'delete from analyzer_device_watch where device_id = $1 and state is null',
        [row.device_id],
      );
      continue;
    }
    if (!rulesFor(opts.engineConfig, row.enterprise_id, row.site_id).offline.enabled) continue;
    const since = silentSince({
      watchFrom: row.watch_from.getTime(),
      now,
      thresholdMs: w.thresholdMs,
      quiet: w.quiet,
    });
    if (since !== null)
      changes.push({ row, out: output(w, row, opts.engineConfig, { state: 'opened', since }), drop: false });
  }
  if (changes.length === 0) return { opened: 0, resolved: 0 };
  const events = changes.map((c) => deviationEvent(c.out, now));
  await opts.emit(events);
  await recordDeviations(
    opts.db,
    changes.map((c, k) => ({ output: c.out, rule: events[k]!.rule, severity: events[k]!.severity })),
  );
  for (const { row, out, drop } of changes) {
    if (drop) {
      await q(opts.db, 'unwatch device', 'delete from analyzer_device_watch where device_id = $1', [
        row.device_id,
      ]);
      continue;
    }
    await q(
      opts.db,
      'record silent device deviation',
      `update analyzer_device_watch set deviation_id = $2, revision = $3, window_start = $4, state = $5,
              updated_at = now()
        where device_id = $1 and revision = $6`,
      [row.device_id, out.id, out.revision, new Date(out.windowStart).toISOString(), out.state, row.revision],
    );
  }
  const opened = changes.filter((c) => c.out.state === 'opened').length;
  opts.logger
    .child({ component: 'silent-devices' })
    .info({ opened, resolved: changes.length - opened }, 'never-reported devices judged');
  return { opened, resolved: changes.length - opened };
}
