import { validateHj212RawV1, type Hj212RawV1, type TelemetryV1 } from '@offsite/contracts';
import {
  rawRecord,
  telemetryRecord,
  topicsWithPrefix,
  type ConnectionInfo,
  type HandlerContext,
} from './packet-handler.js';

const ctx = { topics: topicsWithPrefix('t.') } as HandlerContext;
const conn: ConnectionInfo = {
  id: 'c-1-a',
  remoteAddress: '::ffff:10.0.0.7',
  remotePort: 50123,
  localPort: 20212,
};
const at = '2024-03-01T02:20:03.412Z';
const frame = Buffer.from(
  '##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=0100"\\\u00e4;Flag=5;CP=&&&&1C80\r\n',
);

/** The frame as archived: its PW masked byte for byte, every other byte as received. */
const archived = Buffer.from(frame.toString('latin1').replace('PW=100000', 'PW=******'), 'latin1');

/** The object the record stands for, built the plain way (what JSON.stringify used to be given). */
function expected(direction: 'in' | 'out', extra: Partial<Hj212RawV1>): Hj212RawV1 {
  return {
    schema: 'hj212.raw.v1',
    id: 'raw-1',
    receivedAt: at,
    connection: { id: conn.id, remoteAddress: conn.remoteAddress, remotePort: 50123, localPort: 20212 },
    raw: archived.toString('base64'),
    decoded: true,
    irregularities: [],
    direction,
    ...extra,
  };
}

describe('rawRecord', () => {
  it('writes JSON that parses to the contract shape, for every optional part', () => {
    const cases: [Parameters<typeof rawRecord>[6], 'in' | 'out', Partial<Hj212RawV1>][] = [
      [{}, 'in', {}],
      [{ mn: 'MN"quoted\\', cn: '2011' }, 'out', { mn: 'MN"quoted\\', cn: '2011' }],
      [{ mn: null, cn: null, irregularities: ['crc-lowercase', 'stray-separator'] }, 'in', {
        irregularities: ['crc-lowercase', 'stray-separator'],
      }],
      [{ mn: '中文', error: { code: 'crc-mismatch', message: 'CRC "x"\n bad' } }, 'in', {
        mn: '中文',
        decoded: false,
        error: { code: 'crc-mismatch', message: 'CRC "x"\n bad' },
      }],
    ];
    for (const [fields, direction, extra] of cases) {
      const r = rawRecord(ctx, conn, 'raw-1', frame, at, direction, fields);
      expect(r.topic).toBe('t.hj212.raw.v1');
      expect(r.message.key).toBe(conn.id);
      expect(r.message.timestamp).toBe(Date.parse(at));
      const parsed = JSON.parse(r.message.value as string) as unknown;
      expect(parsed).toEqual(expected(direction, extra));
      expect(validateHj212RawV1(parsed).ok).toBe(true);
      expect(Buffer.from((parsed as Hj212RawV1).raw, 'base64').equals(archived)).toBe(true);
    }
  });
}); // prettier-ignore

describe('telemetryRecord', () => {
  it('stamps the Kafka record with the receive time, not the (possibly days old) data time', () => {
    // A backlog upload: data from 30 days ago received now. Stamped with its data time, the broker's
    // time retention would delete such records before a lagging consumer read them.
    const receivedAt = '2024-03-31T02:20:03.412Z';
    const event = {
      schema: 'telemetry.v1',
      eventId: 'tel-1',
      enterpriseId: 'ent-0001',
      dataTime: '2024-03-01T02:10:00Z',
      receivedAt,
    } as unknown as TelemetryV1;
    const r = telemetryRecord(ctx, event, receivedAt);
    expect(r.topic).toBe('t.telemetry.v1');
    expect(r.message.key).toBe('ent-0001');
    expect(r.message.timestamp).toBe(Date.parse(receivedAt));
    expect(r.message.timestamp).not.toBe(Date.parse(event.dataTime));
    expect((JSON.parse(r.message.value as string) as TelemetryV1).dataTime).toBe(event.dataTime);
  });
});
