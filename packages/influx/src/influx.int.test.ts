import { randomUUID } from 'node:crypto';
import { requireEnv, silentLogger } from '@offsite/testing';
import {
  createInfluxClient,
  createInfluxWriter,
  ensureDatabase1x,
  flux,
  InfluxError,
  queryRows,
  toLine,
} from './index.js';
import { evidenceQuery, fieldRows, ident, influxql, queryInfluxQL } from './influxql.js';

const conn = () => ({
  url: requireEnv('OFFSITE_INFLUX_URL'),
  token: requireEnv('OFFSITE_INFLUX_TOKEN'),
  org: process.env.OFFSITE_INFLUX_ORG ?? '',
  bucket: requireEnv('OFFSITE_INFLUX_BUCKET'),
});

describe('influx adapter against the real InfluxDB', () => {
  const c = conn();
  const client = createInfluxClient(c, silentLogger);
  const writer = createInfluxWriter({ ...c, logger: silentLogger }, client);
  const [database] = c.bucket.split('/');
  const run = randomUUID().slice(0, 8);

  beforeAll(async () => {
    await ensureDatabase1x(client, database!);
  });

  it('writes points idempotently (a replay overwrites) and reads them back with a parameterised Flux query', async () => {
    const base = 1_700_000_000;
    const lines = Array.from({ length: 500 }, (_, i) =>
      toLine({
        measurement: 'itest',
        tags: { run, enterprise: `ent-${i % 5}`, factor: 'a21026' },
        fields: { Rtd: i / 10, flag: 'N' },
        timeSeconds: base + i,
      }),
    );
    await writer.write(lines);
    await writer.write(lines); // replay after a crash: same series + time → same points
    const rows = await queryRows<{ _value: number; enterprise: string }>(
      client,
      c.org,
      flux`from(bucket: ${c.bucket})
        |> range(start: ${new Date((base - 10) * 1000)}, stop: ${new Date((base + 1000) * 1000)})
        |> filter(fn: (r) => r._measurement == "itest" and r.run == ${run} and r._field == "Rtd")`,
    );
    expect(rows).toHaveLength(500);
    expect(
      rows
        .filter((r) => r.enterprise === 'ent-3')
        .map((r) => r._value)
        .slice(0, 2),
    ).toEqual([0.3, 0.8]);
  });

  it('treats a Flux-injection attempt in a filter value as a plain string', async () => {
    const hostile = `x") or true or (r.run == "`;
    const rows = await queryRows(
      client,
      c.org,
      flux`from(bucket: ${c.bucket}) |> range(start: -100y) |> filter(fn: (r) => r._measurement == "itest" and r.run == ${hostile})`,
    );
    expect(rows).toEqual([]);
  });

  it('rejects a malformed line with a non-retryable coded error', async () => {
    await expect(writer.write(['itest,run=x value= 1'])).rejects.toMatchObject({
      code: 'INFLUX_REJECTED',
      retryable: false,
    });
  });

  it('reports an unreachable server as retryable', async () => {
    const dead = createInfluxWriter({ ...c, url: 'http://127.0.0.1:9', logger: silentLogger });
    const err = await dead.write([`itest,run=${run} v=1.0 1`]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfluxError);
    expect(err).toMatchObject({ code: 'INFLUX_UNAVAILABLE', retryable: true });
  });
});

describe('InfluxQL with bind parameters against the real InfluxDB', () => {
  const c = conn();
  const client = createInfluxClient(c, silentLogger);
  const writer = createInfluxWriter({ ...c, logger: silentLogger }, client);
  const [database] = c.bucket.split('/');
  const run = randomUUID().slice(0, 8);
  const base = 1_700_000_000;

  beforeAll(async () => {
    await ensureDatabase1x(client, database!);
    await writer.write(
      Array.from({ length: 60 }, (_, i) =>
        toLine({
          measurement: 'itest_ql',
          tags: { run, enterprise: i % 2 === 0 ? "E'1" : 'E2', 'we"ird': 'x' },
          fields: { value: i, valid: i % 3 !== 0 },
          timeSeconds: base + i * 60,
        }),
      ),
    );
  });

  it('selects by bound tag and time values and groups by tag', async () => {
    const series = await queryInfluxQL(
      client,
      c.bucket,
      influxql(
        `SELECT ${ident('value')}, ${ident('valid')} FROM ${ident('itest_ql')} WHERE run = $run AND enterprise = $e AND time >= $from AND time < $to GROUP BY ${ident('we"ird')}`,
        { run, e: "E'1", from: new Date(base * 1000), to: new Date((base + 30 * 60) * 1000) },
      ),
    );
    expect(series).toHaveLength(1);
    expect(series[0]!.tags).toEqual({ 'we"ird': 'x' });
    expect(series[0]!.rows.map((r) => r.value)).toEqual([
      0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28,
    ]);
    expect(series[0]!.rows[0]).toEqual({ time: base * 1000, value: 0, valid: false });
  });

  it('treats a bound value as data, never as InfluxQL', async () => {
    const series = await queryInfluxQL(
      client,
      c.bucket,
      influxql(
        `SELECT count(${ident('value')}) FROM ${ident('itest_ql')} WHERE run = $run AND enterprise = $e`,
        {
          run,
          e: "E2' OR '1'='1",
        },
      ),
    );
    expect(series).toEqual([]);
  });

  it('reports a statement error by its message', async () => {
    await expect(queryInfluxQL(client, c.bucket, influxql('SELECT FROM nowhere'))).rejects.toMatchObject({
      code: 'INFLUX_QUERY_FAILED',
    });
  });

  it('reads the evidence of several sites (and one factor) as one row per field value', async () => {
    const from = new Date(base * 1000);
    const to = new Date((base + 3 * 60) * 1000);
    const all = fieldRows(
      await queryInfluxQL(
        client,
        c.bucket,
        evidenceQuery('itest_ql', { enterpriseId: "E'1", sites: [run, 'none'] }, from, to),
      ),
    );
    expect(all).toEqual([]); // `site` is not a tag of these points: nothing matches
    await writer.write([
      toLine({
        measurement: 'itest_ev',
        tags: { enterprise: run, site: 'S1', factor: 'f1', interval: 'hour' },
        fields: { Avg: 1, flag: 'N' },
        timeSeconds: base,
      }),
      toLine({
        measurement: 'itest_ev',
        tags: { enterprise: run, site: 'S2', factor: 'f1', interval: 'hour' },
        fields: { Avg: 2 },
        timeSeconds: base + 60,
      }),
      toLine({
        measurement: 'itest_ev',
        tags: { enterprise: run, site: 'S3', factor: 'f1', interval: 'hour' },
        fields: { Avg: 3 },
        timeSeconds: base,
      }),
      toLine({
        measurement: 'itest_ev',
        tags: { enterprise: run, site: 'S1', factor: 'f2', interval: 'hour' },
        fields: { Avg: 4 },
        timeSeconds: base,
      }),
    ]);
    const rows = fieldRows(
      await queryInfluxQL(
        client,
        c.bucket,
        evidenceQuery('itest_ev', { enterpriseId: run, sites: ['S1', 'S2'], factor: 'f1' }, from, to),
      ),
    );
    expect(rows).toEqual([
      { time: base * 1000, field: 'Avg', value: 1, tags: { site: 'S1', factor: 'f1', interval: 'hour' } },
      { time: base * 1000, field: 'flag', value: 'N', tags: { site: 'S1', factor: 'f1', interval: 'hour' } },
      {
        time: (base + 60) * 1000,
        field: 'Avg',
        value: 2,
        tags: { site: 'S2', factor: 'f1', interval: 'hour' },
      },
    ]);
  });
});
