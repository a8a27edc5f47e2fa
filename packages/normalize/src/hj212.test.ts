import { validateTelemetryV1, type TelemetryV1 } from '@offsite/contracts';
import { decodePacket, encodePacket, type Packet } from '@offsite/hj212';
import { loadFixture } from '../test/fixtures.js';
import { normalizeHj212, type Hj212DeviceContext } from './hj212.js';

const device: Hj212DeviceContext = {
  enterpriseId: 'ent-0001',
  siteId: 'out-0001-gas',
  deviceId: '010000A8900016F000169DC0',
  receivedAt: '2016-08-01T01:00:03.120Z',
  rawRef: 'raw-abc',
};

function decode(line: string): Packet {
  const r = decodePacket(`${line}\r\n`, { policy: 'tolerant' });
  if (!r.ok) throw new Error(`fixture does not decode: ${r.error.code}`);
  return r.packet;
}

function event(packet: Packet, ctx: Hj212DeviceContext = device): TelemetryV1 {
  const r = normalizeHj212(packet, ctx);
  if (!r.ok) throw new Error(`not normalised: ${r.reason}`);
  const v = validateTelemetryV1(r.event);
  if (!v.ok) throw new Error(`invalid telemetry.v1: ${v.errors.join('; ')}`);
  return r.event;
}

const standard = loadFixture('standard-examples.txt');
const field = loadFixture('field-captures.txt');
const hourly = standard.find((f) => f.line.includes('CN=2061'));

function build(cn: string, cp: string, extra: { flag?: number | null; qn?: string | null } = {}): Packet {
  const frame = encodePacket({
    qn: extra.qn === undefined ? '20240301101000123' : extra.qn,
    st: '31',
    cn,
    pw: '123456',
    mn: device.deviceId,
    flag: extra.flag === undefined ? 5 : extra.flag,
    cp,
  });
  const r = decodePacket(frame);
  if (!r.ok) throw new Error(r.error.message);
  return r.packet;
}

describe('normalizeHj212 on the standard example (Table C.17, hourly wastewater)', () => {
  it('gives one hour reading with values, flags, units and the header', () => {
    expect(hourly).toBeDefined();
    const e = event(decode(hourly!.line));
    expect(e).toMatchObject({
      schema: 'telemetry.v1',
      enterpriseId: 'ent-0001',
      siteId: 'out-0001-gas',
      deviceId: '010000A8900016F000169DC0',
      source: 'hj212',
      kind: 'emission',
      interval: 'hour',
      // DataTime 20160801080000 in Asia/Shanghai is the hour starting 00:00 UTC
      dataTime: '2016-08-01T00:00:00.000Z',
      receivedAt: device.receivedAt,
      rawRef: 'raw-abc',
      irregularities: [],
      hj212: { st: '32', cn: '2061', qn: '20160801090000001', version: '2017' },
    });
    expect(e.periodSeconds).toBeUndefined();
    expect(e.measurements).toHaveLength(11);
    expect(e.measurements).toContainEqual({
      factor: 'w01018',
      stat: 'Avg',
      value: 40.1,
      unit: 'mg/L',
      flag: 'N',
    });
    expect(e.measurements).toContainEqual({
      factor: 'w01018',
      stat: 'Cou',
      value: 63,
      unit: 'kg',
      flag: 'N',
    });
    expect(e.measurements).toContainEqual({
      factor: 'w01001',
      stat: 'Avg',
      value: 7.5,
      unit: 'pH',
      flag: 'N',
    });
    // flow rate has no fixed unit in practice; cumulative flow is a volume
    expect(e.measurements).toContainEqual({ factor: 'w00000', stat: 'Avg', value: 17.5, flag: 'N' });
    expect(e.measurements).toContainEqual({
      factor: 'w00000',
      stat: 'Cou',
      value: 63,
      unit: 'm3',
      flag: 'N',
    });
  });

  it('derives a deterministic event id from the reading, not from when it arrived', () => {
    const p = decode(hourly!.line);
    const a = event(p);
    const b = event(p, { ...device, receivedAt: '2016-08-02T00:00:00Z', rawRef: 'other' });
    expect(a.eventId).toBe(b.eventId);
    expect(event(p, { ...device, deviceId: 'OTHERMN' }).eventId).not.toBe(a.eventId);
  });
});

describe('normalizeHj212 on packets that are not readings', () => {
  it('returns not-telemetry for a centre request (1062) and a log upload (3020)', () => {
    for (const cn of ['CN=1062', 'CN=3020']) {
      const f = standard.find((x) => x.line.includes(cn));
      const r = normalizeHj212(decode(f!.line), device);
      expect(r).toMatchObject({ ok: false, kind: 'not-telemetry', reason: 'not-data-upload' });
    }
  });

  it('returns not-telemetry for replies (9014)', () => {
    const f = standard.find((x) => x.line.includes('CN=9014'));
    expect(normalizeHj212(decode(f!.line), device)).toMatchObject({ ok: false, kind: 'not-telemetry' });
  });

  it('treats a history request (2061 with BeginTime, no DataTime) as not telemetry', () => {
    const p = build('2061', 'BeginTime=20240301000000;EndTime=20240301100000');
    expect(normalizeHj212(p, device)).toMatchObject({
      ok: false,
      kind: 'not-telemetry',
      reason: 'not-data-upload',
    });
  });

  it('returns no-measurements for a 2081 data-logger restart record', () => {
    const p = build('2081', 'DataTime=20240301101000;RestartTime=20240301100955');
    expect(normalizeHj212(p, device)).toMatchObject({
      ok: false,
      kind: 'not-telemetry',
      reason: 'no-measurements',
    });
  });

  it('rejects an upload without DataTime as invalid', () => {
    const p = build('2011', 'a21026-Rtd=1.0');
    expect(normalizeHj212(p, device)).toMatchObject({
      ok: false,
      kind: 'invalid',
      reason: 'missing-datatime',
    });
  });

  it('rejects registry ids the contract cannot carry', () => {
    const p = build('2011', 'DataTime=20240301101000;a21026-Rtd=1.0');
    expect(normalizeHj212(p, { ...device, enterpriseId: 'bad id' })).toMatchObject({
      ok: false,
      reason: 'invalid-id',
    });
  });
});

describe('normalizeHj212 by command code', () => {
  it('2011 is a realtime emission reading at the acquisition instant', () => {
    const e = event(
      build(
        '2011',
        'DataTime=20240301101030;a21026-Rtd=35.2,a21026-ZsRtd=40.1,a21026-Flag=N;a19001-Rtd=8.5,a19001-Flag=M',
      ),
    );
    expect(e).toMatchObject({ kind: 'emission', interval: 'realtime', dataTime: '2024-03-01T02:10:30.000Z' });
    expect(e.measurements).toEqual([
      { factor: 'a21026', stat: 'Rtd', value: 35.2, unit: 'mg/m3', flag: 'N' },
      { factor: 'a21026', stat: 'ZsRtd', value: 40.1, unit: 'mg/m3', flag: 'N' },
      { factor: 'a19001', stat: 'Rtd', value: 8.5, unit: '%', flag: 'M' },
    ]);
  });

  it('2051 carries the device cadence as periodSeconds (default 600)', () => {
    const p = build('2051', 'DataTime=20240301101000;a21026-Avg=35.2,a21026-Flag=N');
    const def = event(p);
    expect(def).toMatchObject({ interval: 'minute', periodSeconds: 600 });
    const five = event(p, { ...device, minuteIntervalS: 300 });
    expect(five.periodSeconds).toBe(300);
    expect(five.eventId).not.toBe(def.eventId);
  });

  it('2031 is a day reading and 2041 (facility running hours) a day status reading', () => {
    expect(event(build('2031', 'DataTime=20240301000000;a21026-Avg=30,a21026-Flag=N'))).toMatchObject({
      kind: 'emission',
      interval: 'day',
      dataTime: '2024-02-29T16:00:00.000Z',
    });
    const rt = event(build('2041', 'DataTime=20240301000000;SB1-RT=23.5'));
    expect(rt).toMatchObject({ kind: 'status', interval: 'day' });
    expect(rt.measurements).toEqual([{ factor: 'SB1', stat: 'RT', value: 23.5, unit: 'h' }]);
  });

  it('2021 facility status is a realtime status reading', () => {
    const e = event(build('2021', 'DataTime=20240301101000;SB1-RS=1;SB2-RS=4'));
    expect(e).toMatchObject({ kind: 'status', interval: 'realtime' });
    expect(e.measurements).toEqual([
      { factor: 'SB1', stat: 'RS', value: 1 },
      { factor: 'SB2', stat: 'RS', value: 4 },
    ]);
  });

  it('drops a malformed data flag but records that it did', () => {
    const e = event(build('2011', 'DataTime=20240301101030;a21026-Rtd=1,a21026-Flag=N*'));
    expect(e.measurements[0]).toEqual({ factor: 'a21026', stat: 'Rtd', value: 1, unit: 'mg/m3' });
    expect(e.irregularities).toContain('data-flag-malformed');
  });

  it('maps 2005 codes and keeps the original', () => {
    const e = event(build('2011', 'DataTime=20240301101030;02-Rtd=12.5,02-Flag=N', { flag: null, qn: null }));
    expect(e.measurements).toEqual([
      { factor: 'a21026', originalFactor: '02', stat: 'Rtd', value: 12.5, unit: 'mg/m3', flag: 'N' },
    ]);
    expect(e.hj212).toEqual({ st: '31', cn: '2011', version: '2005' });
  });
});

describe('normalizeHj212 on field captures (tolerant policy)', () => {
  it.each(field.map((f) => [f.comment, f.line] as const))(
    '%s → a valid telemetry.v1 event',
    (_comment, line) => {
      const p = decode(line);
      const e = event(p, { ...device, deviceId: p.mn });
      expect(e.measurements.length).toBe(p.values.length);
      // every irregularity the decoder accepted is carried on the event
      for (const i of p.irregularities) expect(e.irregularities).toContain(i);
      expect(e.hj212?.cn).toBe(p.cn);
    },
  );

  it('carries the accepted irregularities of a 2005-style capture', () => {
    const f = field.find((x) => x.comment.startsWith('crc=modbus-low-byte-first; no QN'));
    const e = event(decode(f!.line), { ...device, deviceId: '4201003' });
    expect(e.irregularities).toEqual(
      expect.arrayContaining(['crc-modbus-swapped', 'missing-qn', 'missing-flag']),
    );
    expect(e.hj212).toEqual({ st: '31', cn: '2011', version: '2005' });
    expect(e.measurements).toContainEqual({
      factor: '112',
      originalFactor: '112',
      stat: 'Rtd',
      value: 11.285,
      flag: 'N',
    });
  });

  it('gives a 10-minute captured 2051 its default period', () => {
    const f = field.find((x) => x.line.includes('CN=2051'));
    const e = event(decode(f!.line), { ...device, deviceId: '88888880000001' });
    expect(e).toMatchObject({ interval: 'minute', periodSeconds: 600, dataTime: '2020-09-24T02:10:00.000Z' });
  });
});
