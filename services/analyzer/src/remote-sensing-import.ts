// Importing a remote-sensing detection file: refused whole (a rejection record with every problem) or stored whole
// in one transaction, then each detection judged against the registry (remote-sensing.ts of the domain): a
// suspicious match opens a deviation, handed to Kafka first and then to the deviation log, as the other rounds do.
// The same bytes again are the same import; a detection already judged is not judged again, and a deviation the
// log holds is not emitted again — importing a file twice opens nothing new. A crash after the store and before
// the judgement is finished by importing the file again.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { DeviationV1 } from '@offsite/contracts';
import {
  matchDetection,
  remoteSensingDeviation,
  suspicion,
  type Detection,
  type RemoteSensingRules,
  type SensedEnterprise,
} from '@offsite/domain';
import { ident, influxql, type InfluxQLRunner } from '@offsite/influx';
import type { Logger } from '@offsite/runtime';
import { transaction, type RegistrySnapshot } from '@offsite/store';
import { deviationHeads, q, recordDeviations } from './analyzer-db.js';
import { deviationEvent } from './deviation-event.js';
import { parseDetectionFile, type FileIssue, type FileLimits } from './remote-sensing-file.js';

export interface RemoteSensingImportOptions {
  pool: pg.Pool;
  query: InfluxQLRunner;
  bucket: string;
  /** The measurement of emission telemetry (an outlet's data). */
  emissionMeasurement: string;
  rules: RemoteSensingRules;
  limits: FileLimits;
  /** Produces deviation.v1 events durably before resolving. */
  emit(events: DeviationV1[]): Promise<void>;
  logger: Logger;
  now(): number;
}

export type ImportOutcome =
  | { state: 'rejected'; fileId: string; issues: FileIssue[] }
  | {
      state: 'accepted';
      fileId: string;
      /** The same bytes were imported before. */
      again: boolean;
      detections: number;
      judged: number;
      matched: number;
      deviations: string[];
    };

interface DetectionRow {
  id: string;
  detected_at: Date;
  latitude: number;
  longitude: number;
  confidence: number;
  kind: 'hotspot' | 'plume';
}

/** The registry as the matcher sees it; only outlets with an enabled device are expected to send data. */
function sensed(snapshot: RegistrySnapshot): { enterprises: SensedEnterprise[]; monitored: Set<string> } {
  const monitored = new Set<string>();
  const enterprises = snapshot.enterprises.map((e) => {
    for (const o of e.outlets) if (o.devices.some((d) => d.enabled)) monitored.add(o.id);
    return {
      id: e.id,
      ...(e.location ? { location: e.location } : {}),
      statusTimeline: e.statusTimeline,
      outlets: e.outlets.map((o) => ({ id: o.id, ...(o.location ? { location: o.location } : {}) })),
    };
  });
  return { enterprises, monitored };
}

/** The outlets of `outletIds` with no emission data in [from, to). */
async function silentOutlets(
  o: RemoteSensingImportOptions,
  enterpriseId: string,
  outletIds: readonly string[],
  from: number,
  to: number,
): Promise<Set<string>> {
  const series = await o.query(
    o.bucket,
    influxql(
      `SELECT count("flag") AS "n" FROM ${ident(o.emissionMeasurement)} WHERE "enterprise" = $enterprise AND time >= $from AND time < $to GROUP BY "site"`,
      { enterprise: enterpriseId, from: new Date(from), to: new Date(to) },
    ),
  );
  const heard = new Set(series.filter((s) => s.rows.some((r) => Number(r.n) > 0)).map((s) => s.tags.site));
  return new Set(outletIds.filter((id) => !heard.has(id)));
}

async function judge(
  o: RemoteSensingImportOptions,
  snapshot: RegistrySnapshot,
  fileId: string,
  source: { file: string; sha256: string },
): Promise<{ judged: number; matched: number; deviations: string[] }> {
  const rows = await q<DetectionRow>(
    o.pool,
    'rs.unjudged',
    `select id, detected_at, latitude, longitude, confidence, kind from analyzer_rs_detections
      where file_id = $1 and judged_at is null order by detected_at, id`,
    [fileId],
  );
  const { enterprises, monitored } = sensed(snapshot);
  const out = { judged: 0, matched: 0, deviations: [] as string[] };
  const w = o.rules.silenceMinutes * 60_000;
  for (const r of rows.rows) {
    const d: Detection = {
      id: r.id,
      at: r.detected_at.getTime(),
      lat: r.latitude,
      lon: r.longitude,
      confidence: r.confidence,
      kind: r.kind,
    };
    const matches =
      d.confidence >= o.rules.minConfidence ? matchDetection(d, enterprises, o.rules.radiusM) : [];
    const recorded: unknown[] = [];
    const ids: string[] = [];
    for (const m of matches) {
      const expected = m.outlets.map((x) => x.id).filter((id) => monitored.has(id));
      const silent =
        m.status !== 'shutdown' && expected.length > 0
          ? await silentOutlets(o, m.enterpriseId, expected, d.at - w, d.at + w)
          : new Set<string>();
      const why = suspicion(m, silent);
      recorded.push({
        enterpriseId: m.enterpriseId,
        nearest: m.nearest,
        distanceM: Math.round(m.distanceM * 10) / 10,
        status: m.status,
        suspicious: why?.kind ?? null,
      });
      if (!why) continue;
      const deviation = remoteSensingDeviation(d, m, why, o.rules, source);
      ids.push(deviation.id);
      if ((await deviationHeads(o.pool, [deviation.id])).has(deviation.id)) continue;
      const ev = deviationEvent(deviation, o.now());
      await o.emit([ev]);
      await recordDeviations(o.pool, [{ output: deviation, rule: ev.rule, severity: ev.severity }]);
      out.deviations.push(deviation.id);
    }
    await q(
      o.pool,
      'rs.judged',
      `update analyzer_rs_detections set matches = $2, deviation_ids = $3, judged_at = now() where id = $1`,
      [d.id, JSON.stringify(recorded), ids],
    );
    out.judged++;
    if (matches.length > 0) out.matched++;
  }
  return out;
}

/** Imports one file as `importedBy`: refused (recorded with its issues) or stored and judged. */
export async function importDetectionFile(
  o: RemoteSensingImportOptions,
  snapshot: RegistrySnapshot,
  file: { name: string; bytes: Buffer },
  importedBy: string,
): Promise<ImportOutcome> {
  const log = o.logger.child({ component: 'remote-sensing', file: file.name });
  const sha256 = createHash('sha256').update(file.bytes).digest('hex');
  const parsed = parseDetectionFile(file.name, file.bytes, o.limits);
  if (!parsed.ok) {
    const r = await q<{ id: string }>(
      o.pool,
      'rs.rejected',
      `insert into analyzer_rs_files (sha256, file_name, format, bytes, status, issues, imported_by)
       values ($1, $2, $3, $4, 'rejected', $5, $6) returning id::text`,
      [sha256, file.name, parsed.format, file.bytes.length, JSON.stringify(parsed.issues), importedBy],
    );
    log.warn({ issues: parsed.issues.length }, 'remote-sensing file refused');
    return { state: 'rejected', fileId: r.rows[0]!.id, issues: parsed.issues };
  }
  const stored = await transaction(o.pool, async (c) => {
    const ins = await c.query<{ id: string }>(
      `insert into analyzer_rs_files (sha256, file_name, format, bytes, status, detections, imported_by)
       values ($1, $2, $3, $4, 'accepted', $5, $6)
       on conflict (sha256) where status = 'accepted' do nothing returning id::text`,
      [sha256, file.name, parsed.format, file.bytes.length, parsed.detections.length, importedBy],
    );
    if (ins.rows[0] === undefined) {
      const first = await c.query<{ id: string }>(
        `select id::text from analyzer_rs_files where sha256 = $1 and status = 'accepted'`,
        [sha256],
      );
      return { fileId: first.rows[0]!.id, again: true };
    }
    const fileId = ins.rows[0].id;
    for (const d of parsed.detections)
      await c.query(
        `insert into analyzer_rs_detections (id, file_id, detected_at, latitude, longitude, confidence, kind)
         values ($1, $2, $3, $4, $5, $6, $7) on conflict (id) do nothing`,
        [d.id, fileId, new Date(d.at), d.lat, d.lon, d.confidence, d.kind],
      );
    return { fileId, again: false };
  });
  const judged = await judge(o, snapshot, stored.fileId, { file: file.name, sha256 });
  log.info({ ...stored, ...judged, deviations: judged.deviations.length }, 'remote-sensing file imported');
  return { state: 'accepted', ...stored, detections: parsed.detections.length, ...judged };
}
