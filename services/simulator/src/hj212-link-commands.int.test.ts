// A real TCP peer acting as the centre sends the logger its commands: the logger answers a history
// request from its storage (under the request's QN, 9011 before and 9012 after), a read with its value,
// a period it has no data for with ExeRtn=100; after an outage it replays only the newest of its cache.
import net from 'node:net';
import {
  centreRequest,
  dataAck,
  dataCp,
  decodePacket,
  encodePacket,
  FrameSplitter,
  historyRequest,
  type Packet,
} from '@offsite/hj212';
import { silentLogger, until } from '@offsite/testing';
import { Hj212Link } from './hj212-link.js';

const MN = 'MN-LINK-CMD';
const device = { st: '31', pw: 'pw123456', mn: MN };
const T0 = Date.parse('2026-05-01T00:00:00Z');
const minute = (i: number) => ({
  qn: `20260501080000${String(i).padStart(3, '0')}`,
  st: '31',
  cn: '2051',
  pw: 'pw123456',
  mn: MN,
  flag: 5,
  cp: dataCp(new Date(T0 + i * 600_000), [{ code: 'a21026', stat: 'Avg', value: i }], { a21026: 'N' }),
});

it('answers history and reads from its storage, and replays a partial cache after an outage', async () => {
  const got: Packet[] = [];
  let peer: net.Socket | null = null;
  let acking = true;
  const server = net.createServer((s) => {
    peer = s;
    const splitter = new FrameSplitter();
    s.on('data', (chunk) => {
      for (const ev of splitter.push(chunk)) {
        if (ev.kind !== 'frame') continue;
        const d = decodePacket(ev.frame);
        if (!d.ok) continue;
        got.push(d.packet);
        if (acking && d.packet.ackRequested) s.write(encodePacket(dataAck(d.packet)));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const link = new Hj212Link({
    host: '127.0.0.1',
    port,
    mn: MN,
    sm4Key: null,
    ackTimeoutMs: 150,
    maxResends: 1,
    reconnectMinMs: 50,
    reconnectMaxMs: 200,
    logger: silentLogger,
    clock: () => T0,
    minuteIntervalS: 600,
    replayLimit: 2,
  });
  for (let i = 0; i < 6; i++) link.enqueue(minute(i));
  await until(() => got.length === 6, 10_000, 'six uploads');

  const send = (p: Parameters<typeof encodePacket>[0]) => peer!.write(encodePacket(p));
  send(historyRequest(device, 'Q-HIST', '2051', new Date(T0 + 600_000), new Date(T0 + 3 * 600_000)));
  await until(() => got.some((p) => p.cn === '9012' && p.qn === 'Q-HIST'), 10_000, 'the 9012');
  const answer = got.filter((p) => p.qn === 'Q-HIST');
  expect(answer.map((p) => [p.cn, p.params.QnRtn ?? p.params.ExeRtn ?? p.dataTimeUtc])).toEqual([
    ['9011', '1'],
    ['2051', new Date(T0 + 600_000).toISOString()],
    ['2051', new Date(T0 + 1_200_000).toISOString()],
    ['2051', new Date(T0 + 1_800_000).toISOString()],
    ['9012', '1'],
  ]);
  expect(answer[1]!.ackRequested).toBe(false);

  send(centreRequest(device, 'Q-MIN', '1063'));
  send(centreRequest(device, 'Q-TIME', '1011'));
  send(historyRequest(device, 'Q-NONE', '2061', new Date(T0), new Date(T0 + 3_600_000)));
  await until(() => got.some((p) => p.cn === '9012' && p.qn === 'Q-NONE'), 10_000, 'the last 9012');
  expect(got.find((p) => p.cn === '1063' && p.qn === 'Q-MIN')?.params).toEqual({ MinInterval: '10' });
  expect(got.find((p) => p.cn === '1011' && p.qn === 'Q-TIME')?.params).toEqual({
    SystemTime: '20260501080000',
  });
  expect(got.find((p) => p.cn === '9012' && p.qn === 'Q-NONE')?.params).toEqual({ ExeRtn: '100' });

  // An outage: five uploads cached, only the newest two replayed; all five stay in its storage.
  link.setOnline(false);
  for (let i = 6; i < 11; i++) link.enqueue(minute(i));
  const before = got.length;
  link.setOnline(true);
  await until(() => got.length === before + 2, 10_000, 'the partial replay');
  expect(got.slice(before).map((p) => p.qn)).toEqual([minute(9).qn, minute(10).qn]);
  expect(link.snapshot()).toMatchObject({ dropped: 3, commands: 4, historySent: 3 });
  acking = false;
  expect(await link.close()).toBe(0);
  await new Promise<void>((r) => server.close(() => r()));
});
