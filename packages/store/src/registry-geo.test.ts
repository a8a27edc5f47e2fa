import { cityBoundsFrom, inBounds, positionProblem } from './registry-geo.js';

const city = { south: 30.1, west: 120, north: 30.5, east: 120.5 };

test('the configured bounds are four numbers south < north, west < east, within WGS-84', () => {
  expect(cityBoundsFrom([30.1, 120, 30.5, 120.5])).toEqual(city);
  expect(cityBoundsFrom([30.1, 120, 30.5])).toBe('needs four numbers south,west,north,east, got 3');
  expect(cityBoundsFrom([30.5, 120, 30.1, 120.5])).toBe('needs -90 ≤ south < north ≤ 90');
  expect(cityBoundsFrom([30.1, 120.5, 30.5, 120])).toBe('needs -180 ≤ west < east ≤ 180');
  expect(cityBoundsFrom([30.1, 120, 95, 120.5])).toBe('needs -90 ≤ south < north ≤ 90');
  expect(cityBoundsFrom([30.1, Number.NaN, 30.5, 120.5])).toBe('needs four numbers south,west,north,east');
});

test('edges are inside; a hair beyond is not', () => {
  expect(inBounds(city, { lat: 30.1, lon: 120 })).toBe(true);
  expect(inBounds(city, { lat: 30.5, lon: 120.5 })).toBe(true);
  expect(inBounds(city, { lat: 30.0999, lon: 120.2 })).toBe(false);
  expect(inBounds(city, { lat: 30.2, lon: 120.5001 })).toBe(false);
});

test('a position problem names its field in English and Chinese', () => {
  expect(positionProblem(undefined, undefined, city)).toBeNull();
  expect(positionProblem(30.2, 120.2, city)).toBeNull();
  expect(positionProblem(30.2, undefined, city)).toMatchObject({
    field: 'lon',
    zh: '填写了纬度，须同时填写经度',
  });
  expect(positionProblem(undefined, 120.2, city)).toMatchObject({ field: 'lat' });
  expect(positionProblem(-90.5, 120.2, city)).toMatchObject({ field: 'lat' });
  expect(positionProblem(30.2, 181, undefined)).toMatchObject({ field: 'lon' });
  expect(positionProblem(Number.NaN, 120.2, city)).toMatchObject({ field: 'lat' });
  expect(positionProblem(31.23, 121.47, city)).toEqual({
    field: 'position',
    en: 'position 31.23, 121.47 lies outside the city (30.1–30.5°N, 120–120.5°E)',
    zh: '位置 31.23, 121.47 不在本市范围内（30.1–30.5°N, 120–120.5°E）',
  });
  // Without configured bounds, anywhere in the WGS-84 range is accepted.
  expect(positionProblem(31.23, 121.47, undefined)).toBeNull();
});
