import { formatOf, parseDetectionFile } from './remote-sensing-file.js';

const limits = { maxBytes: 10_000, maxDetections: 3 };
const parse = (name: string, text: string) => parseDetectionFile(name, Buffer.from(text), limits);

test('the type is the extension: .csv, .geojson, .json; anything else is refused by name', () => {
  expect([formatOf('a.CSV'), formatOf('a.geojson'), formatOf('a.json'), formatOf('a.kml')]).toEqual([
    'csv',
    'geojson',
    'geojson',
    null,
  ]);
  expect(parse('a.kml', 'x')).toMatchObject({ ok: false, issues: [{ where: 'file', field: 'type' }] });
});

test('a CSV needs its columns, knows no others, and gives a detection without id a content id', () => {
  expect(parse('a.csv', 'time,lat,lon\n')).toMatchObject({
    ok: false,
    issues: [
      {
        field: 'header',
        en: expect.stringContaining('"confidence"'),
        zh: expect.stringContaining('"confidence"'),
      },
    ],
  });
  expect(parse('a.csv', 'time,lat,lon,confidence,wind\n')).toMatchObject({
    ok: false,
    issues: [{ field: 'header', en: 'unknown columns: wind' }],
  });
  const a = parse('a.csv', 'time,lat,lon,confidence\n2026-11-20T10:00:00+08:00,30.2,120.3,0.9\n');
  const b = parse('b.csv', '\uFEFFlat,lon,time,confidence\r\n30.2,120.3,2026-11-20T02:00:00Z,0.9\r\n');
  if (!a.ok || !b.ok) throw new Error('refused');
  expect(a.detections[0]).toMatchObject({ at: Date.parse('2026-11-20T02:00:00Z'), kind: 'hotspot' });
  // The same time (another offset), place and confidence: the same id.
  expect(b.detections[0]!.id).toBe(a.detections[0]!.id);
  expect(a.detections[0]!.id).toMatch(/^rs-[0-9a-f]{24}$/);
});

test('GeoJSON: a FeatureCollection of Points [lon, lat]; too many detections refuse the file', () => {
  const point = (lon: number, lat: number, props: object) => ({
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [lon, lat] },
    properties: props,
  });
  const ok = parse(
    'a.geojson',
    JSON.stringify({
      type: 'FeatureCollection',
      features: [
        point(120.3, 30.2, { id: 'p1', time: '2026-11-20T10:00:00+08:00', confidence: 0.7, kind: 'plume' }),
      ],
    }),
  );
  expect(ok).toMatchObject({ ok: true, detections: [{ id: 'p1', lat: 30.2, lon: 120.3, kind: 'plume' }] });
  const bad = parse(
    'a.geojson',
    JSON.stringify({
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', geometry: { type: 'Polygon', coordinates: [] } },
        point(120.3, 30.2, { time: 'x', confidence: 0.7 }),
      ],
    }),
  );
  expect(bad).toMatchObject({
    ok: false,
    issues: [
      { where: 'features[0]', field: 'geometry' },
      { where: 'features[1]', field: 'time' },
    ],
  });
  expect(parse('a.json', '{"type":"Feature"}')).toMatchObject({ ok: false, issues: [{ field: 'type' }] });
  const four = { type: 'FeatureCollection', features: [1, 2, 3, 4].map(() => point(120, 30, {})) };
  expect(parse('a.json', JSON.stringify(four))).toMatchObject({
    ok: false,
    issues: [{ field: 'features', en: 'more than 3 detections' }],
  });
});
