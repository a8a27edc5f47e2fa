// Remote-sensing detection files on the real servers (Postgres, Kafka, InfluxDB) with the example registry:
// ent-0001's site and stack have positions; ent-0008 (shut down 2026-09-15 – 2026-11-16) is given one here.
// A hotspot near ent-0008 while it was shut down, and one near ent-0001 when its stack sent nothing, each open one
// deviation on deviation.v1 with its evidence; one near ent-0001 while its stack reported, and one of low
// confidence, open none. The same file again, or the same detections in GeoJSON, open nothing new. Bad rows, a
// wrong type and an oversized file are refused whole with a rejection record and nothing of them stored.
import type { DeviationV1 } from '@offsite/contracts';
import { DEFAULT_REMOTE_SENSING_RULES } from '@offsite/domain';
import { createDurableProducer } from '@offsite/kafka';
import { kafkaMessage, kafkaTopics } from '@offsite/contracts';
import { queryInfluxQL, toLine } from '@offsite/influx';
import { loadRegistrySnapshot, type RegistrySnapshot } from '@offsite/store';
import { silentLogger, until } from '@offsite/testing';
import type { Consumer } from 'kafkajs';
import { importDetectionFile, type RemoteSensingImportOptions } from '../src/remote-sensing-import.js';
import {
  closeTestServers,
  collectDeviations,
  openTestServers,
  testResources,
  type TestServers,
} from './resources.js';

const res = testResources('rs');
let servers: TestServers;
let collector: Consumer;
let producer: ReturnType<typeof createDurableProducer>;
let snapshot: RegistrySnapshot;
let opts: RemoteSensingImportOptions;
const events: DeviationV1[] = [];

/** 2026-10-10 10:00 Shanghai: ent-0008 shut down. */
const SHUT = '2026-10-10T10:00:00+08:00';
/** ent-0001's stack sent nothing around this time … */
const QUIET = '2026-11-20T10:00:00+08:00';
/** … and reported at this one. */
const HEARD = '2026-11-21T10:00:00+08:00';
// 0.005° north of the positions: 556.0 m from either site; 517.2 m from the stack (511.5 m north, 76.8 m west).
const CSV = [
  'id,time,lat,lon,confidence,kind',
  `fy4b-001,${SHUT},30.205,120.3,0.92,hotspot`,
  `fy4b-002,${QUIET},30.2791,120.1552,0.8,plume`,
  `fy4b-003,${HEARD},30.2791,120.1552,0.8,plume`,
  `fy4b-004,${SHUT},30.205,120.3,0.3,hotspot`,
].join('\n');

beforeAll(async () => {
  servers = await openTestServers(res, 'analyzer-rs-int');
  await servers.pool.query(`update enterprises set latitude = 30.2, longitude = 120.3 where id = 'ent-0008'`);
  snapshot = await loadRegistrySnapshot(servers.pool);
  await servers.writer.write([
    toLine({
      measurement: 'emission',
      tags: {
        enterprise: 'ent-0001',
        site: 'out-0001-g1',
        device: '99010201FG00010000000001',
        factor: 'a21026',
        interval: 'minute',
      },
      fields: { Avg: 20, flag: 'N' },
      timeSeconds: (Date.parse(HEARD) - 10 * 60_000) / 1000,
    }),
  ]);
  collector = await collectDeviations(servers.kafka, res, events);
  producer = createDurableProducer(servers.kafka, { logger: silentLogger });
  await producer.connect();
  opts = {
    pool: servers.pool,
    query: (b, q) => queryInfluxQL(servers.influx, b, q),
    bucket: res.bucket,
    emissionMeasurement: 'emission',
    rules: DEFAULT_REMOTE_SENSING_RULES,
    limits: {
      maxBytes: 4096,
      maxDetections: 100,
      cityBounds: { south: 30.1, west: 120, north: 30.5, east: 120.5 },
    },
    emit: async (evs) => {
      await producer.send(
        res.deviationTopic,
        evs.map((e) => kafkaMessage(kafkaTopics.deviation, e)),
      );
    },
    logger: silentLogger,
    now: () => Date.parse('2026-12-01T00:00:00Z'),
  };
});
afterAll(async () => {
  await producer?.disconnect();
  await closeTestServers(res, servers, undefined, collector);
});

const one = async (sql: string, params: unknown[] = []) => (await servers.pool.query(sql, params)).rows;

it('opens a deviation for the shut-down enterprise and for the silent stack, with the evidence', async () => {
  const r = await importDetectionFile(
    opts,
    snapshot,
    { name: 'fy4b-20261121.csv', bytes: Buffer.from(CSV) },
    'rs-officer',
  );
  expect(r).toMatchObject({ state: 'accepted', again: false, detections: 4, judged: 4, matched: 3 });
  if (r.state !== 'accepted') throw new Error('refused');
  expect(r.deviations).toHaveLength(2);
  await until(() => events.length >= 2, 20_000, 'two remote-sensing deviations');
  const byEnt = new Map(events.map((e) => [e.enterpriseId, e]));
  expect(byEnt.get('ent-0008')).toMatchObject({
    rule: 'remote-sensing',
    siteId: 'ent-0008',
    suspectedFalsification: true,
    windowStart: '2026-10-10T02:00:00.000Z',
    evidence: {
      params: {
        detection: { id: 'fy4b-001', lat: 30.205, lon: 120.3, confidence: 0.92, atText: '2026-10-10 10:00' },
        distanceM: 556,
        status: 'shutdown',
        reason: { kind: 'shutdown' },
      },
    },
  });
  expect(byEnt.get('ent-0001')).toMatchObject({
    siteId: 'out-0001-g1',
    evidence: {
      params: {
        detection: { id: 'fy4b-002', kind: 'plume' },
        distanceM: 517.2,
        reason: { kind: 'silent-outlets', outletIds: ['out-0001-g1'] },
      },
    },
  });
  expect(String(byEnt.get('ent-0001')!.evidence.params!.zh)).toMatch(
    /排放口 out-0001-g1 前后 60 分钟无监测数据$/,
  );
  const rows = await one(`select id, deviation_ids, matches from analyzer_rs_detections order by id`);
  expect(
    rows.map((x) => [
      x.id,
      x.deviation_ids.length,
      x.matches.map((m: { suspicious: string | null }) => m.suspicious),
    ]),
  ).toEqual([
    ['fy4b-001', 1, ['shutdown']],
    ['fy4b-002', 1, ['silent-outlets']],
    ['fy4b-003', 0, [null]],
    ['fy4b-004', 0, []],
  ]);
});

it('the same file again, or the same detections as GeoJSON, opens nothing new', async () => {
  const again = await importDetectionFile(
    opts,
    snapshot,
    { name: 'copy.csv', bytes: Buffer.from(CSV) },
    'rs-officer',
  );
  expect(again).toMatchObject({ state: 'accepted', again: true, judged: 0, deviations: [] });
  const geo = {
    type: 'FeatureCollection',
    features: [
      {
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [120.3, 30.205] },
        properties: { id: 'fy4b-001', time: SHUT, confidence: 0.92 },
      },
    ],
  };
  const g = await importDetectionFile(
    opts,
    snapshot,
    { name: 'fy4b.geojson', bytes: Buffer.from(JSON.stringify(geo)) },
    'rs-officer',
  );
  expect(g).toMatchObject({ state: 'accepted', again: false, detections: 1, judged: 0, deviations: [] });
  expect(
    await one(`select count(*)::int as n from analyzer_deviations where rule = 'remote-sensing'`),
  ).toEqual([{ n: 2 }]);
  // A later event would arrive after these two: nothing else is on the topic.
  await new Promise((r) => setTimeout(r, 2000));
  expect(events).toHaveLength(2);
});

it('refuses a file with bad rows, the wrong type or too many bytes, whole, keeping a rejection record', async () => {
  const bad = [
    'time,lat,lon,confidence',
    `${SHUT},95,120.3,0.9`,
    '2026-10-10 10:00,30.2,120.3,1.2',
    `${SHUT},31.23,121.47,0.9`,
  ].join('\n');
  const r = await importDetectionFile(
    opts,
    snapshot,
    { name: 'bad.csv', bytes: Buffer.from(bad) },
    'rs-officer',
  );
  if (r.state !== 'rejected') throw new Error('accepted');
  expect(r.issues.map((i) => [i.where, i.field])).toEqual([
    ['row 1', 'lat'],
    ['row 2', 'time'],
    ['row 2', 'confidence'],
    ['row 3', 'position'],
  ]);
  expect(r.issues[0]).toMatchObject({
    en: 'must be a latitude of −90…90 degrees, got "95"',
    zh: '纬度须在 −90…90 度之间，实际为 "95"',
  });
  const png = await importDetectionFile(
    opts,
    snapshot,
    { name: 'x.csv', bytes: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1]) },
    'rs-officer',
  );
  expect(png).toMatchObject({ state: 'rejected', issues: [{ field: 'type' }] });
  const txt = await importDetectionFile(
    opts,
    snapshot,
    { name: 'x.txt', bytes: Buffer.from(CSV) },
    'rs-officer',
  );
  expect(txt).toMatchObject({ state: 'rejected', issues: [{ field: 'type' }] });
  const big = await importDetectionFile(
    opts,
    snapshot,
    { name: 'big.csv', bytes: Buffer.alloc(5000, 0x41) },
    'rs-officer',
  );
  expect(big).toMatchObject({ state: 'rejected', issues: [{ field: 'size' }] });
  expect(
    await one(
      `select file_name, status, jsonb_array_length(issues) as n from analyzer_rs_files where status = 'rejected' order by id`,
    ),
  ).toEqual([
    { file_name: 'bad.csv', status: 'rejected', n: 4 },
    { file_name: 'x.csv', status: 'rejected', n: 1 },
    { file_name: 'x.txt', status: 'rejected', n: 1 },
    { file_name: 'big.csv', status: 'rejected', n: 1 },
  ]);
  expect(await one(`select count(*)::int as n from analyzer_rs_detections`)).toEqual([{ n: 4 }]);
});
