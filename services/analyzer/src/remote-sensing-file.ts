// A remote-sensing detection file (CSV or GeoJSON) → detections, or every problem with its row and field in English
// and Chinese. Pure: the import (remote-sensing-import.ts) decides what is stored. A file is taken whole or not at
// all, so one bad row refuses the file.
import { createHash } from 'node:crypto';
import type { Detection } from '@offsite/domain';
import { inBounds, type GeoBounds } from '@offsite/store';

export type DetectionFormat = 'csv' | 'geojson';

export interface FileIssue {
  /** `file`, or `row 3` (CSV, 1 = the first data row) / `features[2]` (GeoJSON). */
  where: string;
  field: string;
  en: string;
  zh: string;
}

export interface FileLimits {
  maxBytes: number;
  maxDetections: number;
  /** A detection outside the city is an issue; absent: WGS-84 range only. */
  cityBounds?: GeoBounds;
}

export type ParsedFile =
  | { ok: true; format: DetectionFormat; detections: Detection[] }
  | { ok: false; format: DetectionFormat | null; issues: FileIssue[] };

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** The format by the name's extension: `.csv`, `.geojson` or `.json`; anything else is not a detection file. */
export function formatOf(name: string): DetectionFormat | null {
  const n = name.toLowerCase();
  if (n.endsWith('.csv')) return 'csv';
  if (n.endsWith('.geojson') || n.endsWith('.json')) return 'geojson';
  return null;
}

const fileIssue = (field: string, en: string, zh: string): FileIssue => ({ where: 'file', field, en, zh });

/** One detection from its raw fields, or the issues of its fields. */
function detection(
  raw: { id?: unknown; time?: unknown; lat?: unknown; lon?: unknown; confidence?: unknown; kind?: unknown },
  where: string,
  limits: FileLimits,
  issues: FileIssue[],
): Detection | null {
  const before = issues.length;
  const bad = (field: string, en: string, zh: string) => issues.push({ where, field, en, zh });
  const num = (v: unknown) =>
    typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  const time = typeof raw.time === 'string' ? raw.time.trim() : '';
  const at = INSTANT.test(time) ? Date.parse(time) : NaN;
  if (!Number.isFinite(at))
    bad(
      'time',
      `must be an ISO 8601 time with offset, e.g. 2026-11-20T10:00:00+08:00, got "${String(raw.time ?? '')}"`,
      `须为带时区的 ISO 8601 时间，如 2026-11-20T10:00:00+08:00，实际为 "${String(raw.time ?? '')}"`,
    );
  const lat = num(raw.lat);
  const lon = num(raw.lon);
  if (!Number.isFinite(lat) || lat < -90 || lat > 90)
    bad(
      'lat',
      `must be a latitude of −90…90 degrees, got "${String(raw.lat ?? '')}"`,
      `纬度须在 −90…90 度之间，实际为 "${String(raw.lat ?? '')}"`,
    );
  if (!Number.isFinite(lon) || lon < -180 || lon > 180)
    bad(
      'lon',
      `must be a longitude of −180…180 degrees, got "${String(raw.lon ?? '')}"`,
      `经度须在 −180…180 度之间，实际为 "${String(raw.lon ?? '')}"`,
    );
  const confidence = num(raw.confidence);
  if (!Number.isFinite(confidence) || confidence < 0 || confidence > 1)
    bad(
      'confidence',
      `must be a number from 0 to 1, got "${String(raw.confidence ?? '')}"`,
      `置信度须为 0 到 1 之间的数，实际为 "${String(raw.confidence ?? '')}"`,
    );
  const kind = raw.kind === undefined || raw.kind === '' ? 'hotspot' : raw.kind;
  if (kind !== 'hotspot' && kind !== 'plume')
    bad(
      'kind',
      `must be hotspot or plume, got "${String(kind)}"`,
      `类型须为 hotspot（热点）或 plume（烟羽），实际为 "${String(kind)}"`,
    );
  const given = raw.id === undefined || raw.id === '' ? undefined : String(raw.id);
  if (given !== undefined && !ID.test(given))
    bad(
      'id',
      `must be letters, digits, ".", "_", ":", "-" (up to 128), got "${given}"`,
      `编号须由字母、数字、"."、"_"、":"、"-" 组成（最多 128 位），实际为 "${given}"`,
    );
  if (issues.length > before) return null;
  if (limits.cityBounds && !inBounds(limits.cityBounds, { lat, lon })) {
    bad('position', `position ${lat}, ${lon} lies outside the city`, `位置 ${lat}, ${lon} 不在本市范围内`);
    return null;
  }
  // Without the provider's id, the content names it: the same detection imported again keeps its id.
  const id =
    given ??
    `rs-${createHash('sha256')
      .update(`${new Date(at).toISOString()}|${lat}|${lon}`)
      .digest('hex')
      .slice(0, 24)}`;
  return { id, at, lat, lon, confidence, kind: kind === 'plume' ? 'plume' : 'hotspot' };
}

function parseCsv(text: string, limits: FileLimits): ParsedFile {
  const lines = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').split(',').map((h) => h.trim().toLowerCase());
  const issues: FileIssue[] = [];
  for (const need of ['time', 'lat', 'lon', 'confidence'])
    if (!header.includes(need))
      issues.push(
        fileIssue(
          'header',
          `the header lacks the column "${need}" (needs time, lat, lon, confidence; optional id, kind)`,
          `表头缺少 "${need}" 列（须有 time、lat、lon、confidence，可选 id、kind）`,
        ),
      );
  const unknown = header.filter((h) => !['id', 'time', 'lat', 'lon', 'confidence', 'kind'].includes(h));
  if (unknown.length > 0)
    issues.push(
      fileIssue('header', `unknown columns: ${unknown.join(', ')}`, `未知的列：${unknown.join('、')}`),
    );
  if (issues.length > 0) return { ok: false, format: 'csv', issues };
  const rows = lines.slice(1);
  if (rows.length === 0)
    return {
      ok: false,
      format: 'csv',
      issues: [fileIssue('rows', 'the file has no detections', '文件中没有任何检测记录')],
    };
  if (rows.length > limits.maxDetections)
    return {
      ok: false,
      format: 'csv',
      issues: [
        fileIssue(
          'rows',
          `more than ${limits.maxDetections} detections`,
          `检测记录超过 ${limits.maxDetections} 条`,
        ),
      ],
    };
  const detections: Detection[] = [];
  rows.forEach((line, i) => {
    const where = `row ${i + 1}`;
    if (line.includes('"')) {
      issues.push({ where, field: 'row', en: 'quoted fields are not supported', zh: '不支持带引号的字段' });
      return;
    }
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length !== header.length) {
      issues.push({
        where,
        field: 'row',
        en: `has ${cells.length} fields, the header ${header.length}`,
        zh: `有 ${cells.length} 个字段，表头为 ${header.length} 个`,
      });
      return;
    }
    const raw = Object.fromEntries(header.map((h, j) => [h, cells[j]]));
    const d = detection(raw, where, limits, issues);
    if (d) detections.push(d);
  });
  return issues.length > 0 ? { ok: false, format: 'csv', issues } : { ok: true, format: 'csv', detections };
}

function parseGeoJson(text: string, limits: FileLimits): ParsedFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return {
      ok: false,
      format: 'geojson',
      issues: [
        fileIssue(
          'file',
          `not JSON: ${(err as Error).message}`,
          `不是有效的 JSON：${(err as Error).message}`,
        ),
      ],
    };
  }
  const fc = doc as { type?: unknown; features?: unknown };
  if (
    typeof doc !== 'object' ||
    doc === null ||
    fc.type !== 'FeatureCollection' ||
    !Array.isArray(fc.features)
  )
    return {
      ok: false,
      format: 'geojson',
      issues: [fileIssue('type', 'must be a GeoJSON FeatureCollection', '须为 GeoJSON FeatureCollection')],
    };
  const features = fc.features as unknown[];
  if (features.length === 0)
    return {
      ok: false,
      format: 'geojson',
      issues: [fileIssue('features', 'the file has no detections', '文件中没有任何检测记录')],
    };
  if (features.length > limits.maxDetections)
    return {
      ok: false,
      format: 'geojson',
      issues: [
        fileIssue(
          'features',
          `more than ${limits.maxDetections} detections`,
          `检测记录超过 ${limits.maxDetections} 条`,
        ),
      ],
    };
  const issues: FileIssue[] = [];
  const detections: Detection[] = [];
  features.forEach((f, i) => {
    const where = `features[${i}]`;
    const feature = (f ?? {}) as {
      geometry?: { type?: unknown; coordinates?: unknown };
      properties?: Record<string, unknown>;
    };
    const c = feature.geometry?.coordinates;
    if (feature.geometry?.type !== 'Point' || !Array.isArray(c) || c.length < 2) {
      issues.push({
        where,
        field: 'geometry',
        en: 'must be a Point [lon, lat]',
        zh: '几何须为点 Point [经度, 纬度]',
      });
      return;
    }
    const p = feature.properties ?? {};
    const d = detection(
      { id: p.id, time: p.time, lat: c[1], lon: c[0], confidence: p.confidence, kind: p.kind },
      where,
      limits,
      issues,
    );
    if (d) detections.push(d);
  });
  return issues.length > 0
    ? { ok: false, format: 'geojson', issues }
    : { ok: true, format: 'geojson', detections };
}

/** The detections of a file named `name`, within the limits (size and type first), or every issue. */
export function parseDetectionFile(name: string, bytes: Buffer, limits: FileLimits): ParsedFile {
  const format = formatOf(name);
  if (!format)
    return {
      ok: false,
      format: null,
      issues: [
        fileIssue(
          'type',
          `"${name}" is not a .csv, .geojson or .json file`,
          `"${name}" 不是 .csv、.geojson 或 .json 文件`,
        ),
      ],
    };
  if (bytes.length > limits.maxBytes)
    return {
      ok: false,
      format,
      issues: [
        fileIssue(
          'size',
          `${bytes.length} bytes, more than the limit of ${limits.maxBytes}`,
          `文件 ${bytes.length} 字节，超过上限 ${limits.maxBytes}`,
        ),
      ],
    };
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (bytes.includes(0) || text.includes('\uFFFD'))
    return {
      ok: false,
      format,
      issues: [fileIssue('type', 'not UTF-8 text (a binary file?)', '不是 UTF-8 文本（可能是二进制文件）')],
    };
  return format === 'csv' ? parseCsv(text, limits) : parseGeoJson(text, limits);
}
