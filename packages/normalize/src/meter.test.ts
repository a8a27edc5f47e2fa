import { validateTelemetryV1 } from '@offsite/contracts';
import { normalizeMeterEnergy, normalizeMeterStatus, type MeterContext } from './meter.js';

const meter: MeterContext = {
  enterpriseId: 'ent-0003',
  meterId: 'm-treat-01',
  receivedAt: '2024-03-01T02:10:00.250Z',
};

describe('normalizeMeterEnergy', () => {
  it('turns a reading with a +08:00 time into a UTC energy event', () => {
    const r = normalizeMeterEnergy(
      {
        ts: '2024-03-01T10:10:00+08:00',
        powerKw: 42.1,
        energyKwh: 10234.5,
        currentA: 61.2,
        status: 'running',
      },
      { ...meter, rawRef: 'mqtt/1' },
    );
    if (!r.ok) throw new Error(r.message);
    expect(validateTelemetryV1(r.event)).toEqual({ ok: true, value: r.event });
    expect(r.event).toMatchObject({
      siteId: 'm-treat-01',
      deviceId: 'm-treat-01',
      source: 'mqtt',
      kind: 'energy',
      interval: 'realtime',
      dataTime: '2024-03-01T02:10:00.000Z',
      rawRef: 'mqtt/1',
    });
    expect(r.event.hj212).toBeUndefined();
    expect(r.event.measurements).toEqual([
      { factor: 'energy_kwh', stat: 'Cou', value: 10234.5, unit: 'kWh' },
      { factor: 'power_kw', stat: 'Rtd', value: 42.1, unit: 'kW' },
      { factor: 'current_a', stat: 'Rtd', value: 61.2, unit: 'A' },
      { factor: 'running', stat: 'Value', value: 1 },
    ]);
  });

  it('gives the same reading the same id whatever the offset it was sent with', () => {
    const a = normalizeMeterEnergy(
      { ts: '2024-03-01T10:10:00+08:00', powerKw: 0, energyKwh: 1, status: 'stopped' },
      meter,
    );
    const b = normalizeMeterEnergy(
      { ts: '2024-03-01T02:10:00Z', powerKw: 0, energyKwh: 1, status: 'stopped' },
      meter,
    );
    expect(a.ok && b.ok && a.event.eventId === b.event.eventId).toBe(true);
    expect(a.ok && a.event.measurements.at(-1)).toEqual({ factor: 'running', stat: 'Value', value: 0 });
  });

  it('rejects payloads that break the schema, listing the problems', () => {
    const r = normalizeMeterEnergy({ ts: 'yesterday', powerKw: -1, energyKwh: 1, status: 'on' }, meter);
    expect(r).toMatchObject({ ok: false, kind: 'invalid', reason: 'schema-invalid' });
    expect(!r.ok && r.kind === 'invalid' && r.details?.length).toBeGreaterThanOrEqual(2);
  });

  it('rejects a meter id the contract cannot carry', () => {
    const r = normalizeMeterEnergy(
      { ts: '2024-03-01T02:10:00Z', powerKw: 1, energyKwh: 1, status: 'running' },
      { ...meter, meterId: 'm/1' },
    );
    expect(r).toMatchObject({ ok: false, reason: 'invalid-id' });
  });
});

describe('normalizeMeterStatus', () => {
  it('turns online/offline into a status reading', () => {
    const r = normalizeMeterStatus(
      { state: 'offline', ts: '2024-03-01T10:00:00+08:00', reason: 'power' },
      meter,
    );
    if (!r.ok) throw new Error(r.message);
    expect(validateTelemetryV1(r.event).ok).toBe(true);
    expect(r.event).toMatchObject({ kind: 'status', dataTime: '2024-03-01T02:00:00.000Z' });
    expect(r.event.measurements).toEqual([{ factor: 'online', stat: 'Value', value: 0 }]);
  });

  it('uses the receive time for a last-will message without ts', () => {
    const r = normalizeMeterStatus({ state: 'offline' }, meter);
    expect(r.ok && r.event.dataTime).toBe('2024-03-01T02:10:00.250Z');
  });

  it('rejects an unknown state', () => {
    expect(normalizeMeterStatus({ state: 'sleeping' }, meter)).toMatchObject({
      ok: false,
      reason: 'schema-invalid',
    });
  });
});
