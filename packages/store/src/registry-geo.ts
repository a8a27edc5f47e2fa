// Positions in the registry: WGS-84 degrees, and the city's bounds a position must lie in. The bounds are
// configuration (OFFSITE_CITY_BOUNDS: south,west,north,east), checked by the registry import and the console's
// registry edit alike.

/** A WGS-84 position in degrees (north, east positive). */
export interface GeoPosition {
  lat: number;
  lon: number;
}

/** A latitude/longitude box in WGS-84 degrees; `west` > `east` would cross the antimeridian and is refused. */
export interface GeoBounds {
  south: number;
  west: number;
  north: number;
  east: number;
}

/**
 * The bounds from their configured list `[south, west, north, east]`, or the reason they are not bounds
 * (English; for a config error naming the variable).
 */
export function cityBoundsFrom(list: readonly number[]): GeoBounds | string {
  if (list.length !== 4) return `needs four numbers south,west,north,east, got ${list.length}`;
  const [south, west, north, east] = list as [number, number, number, number];
  if (![south, west, north, east].every(Number.isFinite)) return 'needs four numbers south,west,north,east';
  if (south < -90 || north > 90 || south >= north) return 'needs -90 ≤ south < north ≤ 90';
  if (west < -180 || east > 180 || west >= east) return 'needs -180 ≤ west < east ≤ 180';
  return { south, west, north, east };
}

/** Whether a position lies in the bounds (edges included). */
export function inBounds(b: GeoBounds, p: GeoPosition): boolean {
  return p.lat >= b.south && p.lat <= b.north && p.lon >= b.west && p.lon <= b.east;
}

/** The bounds as the messages print them. */
export function formatBounds(b: GeoBounds): string {
  return `${b.south}–${b.north}°N, ${b.west}–${b.east}°E`;
}

/**
 * Why a position is refused (English, Chinese), or null: each coordinate in the WGS-84 range, both or neither
 * given, the position inside the city's bounds when they are configured.
 */
export function positionProblem(
  lat: number | undefined,
  lon: number | undefined,
  bounds: GeoBounds | undefined,
): { field: 'lat' | 'lon' | 'position'; en: string; zh: string } | null {
  if (lat === undefined && lon === undefined) return null;
  if (lat === undefined)
    return { field: 'lat', en: 'a longitude needs its latitude', zh: '填写了经度，须同时填写纬度' };
  if (lon === undefined)
    return { field: 'lon', en: 'a latitude needs its longitude', zh: '填写了纬度，须同时填写经度' };
  if (!Number.isFinite(lat) || lat < -90 || lat > 90)
    return {
      field: 'lat',
      en: `latitude must be within −90…90 degrees, got ${lat}`,
      zh: `纬度须在 −90…90 度之间，实际为 ${lat}`,
    };
  if (!Number.isFinite(lon) || lon < -180 || lon > 180)
    return {
      field: 'lon',
      en: `longitude must be within −180…180 degrees, got ${lon}`,
      zh: `经度须在 −180…180 度之间，实际为 ${lon}`,
    };
  if (bounds && !inBounds(bounds, { lat, lon }))
    return {
      field: 'position',
      en: `position ${lat}, ${lon} lies outside the city (${formatBounds(bounds)})`,
      zh: `位置 ${lat}, ${lon} 不在本市范围内（${formatBounds(bounds)}）`,
    };
  return null;
}
