import { once } from 'node:events';
import { createServer, connect, type Server } from 'node:net';
import { decodePacket } from '@offsite/hj212';
import { hj212HourlyUpload, readyStatus, startProxy } from './index.js';

test('hj212HourlyUpload is a valid hourly upload for the MN', () => {
  const r = decodePacket(hj212HourlyUpload('99010201FG00010000000001', '20240301020000', 20));
  if (!r.ok) throw new Error(`did not decode: ${r.error.code}`);
  expect(r.packet).toMatchObject({
    cn: '2061',
    st: '31',
    mn: '99010201FG00010000000001',
    ackRequested: true,
  });
  expect(r.packet.crc.valid).toBe(true);
  expect(r.packet.dataTimeUtc).toBe('2024-02-29T18:00:00.000Z');
  expect(r.packet.values.map((v) => [v.code, v.stat, v.value])).toEqual([
    ['a21026', 'Avg', 20],
    ['a21026', 'Max', 21],
  ]);
  expect(r.packet.flags).toEqual({ a21026: 'N' });
});

/** An echo server on loopback. */
async function echo(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => s.pipe(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const a = server.address();
  if (!a || typeof a !== 'object') throw new Error('no address');
  return { server, port: a.port };
}

async function roundTrip(port: number): Promise<string> {
  const s = connect(port, '127.0.0.1');
  await once(s, 'connect');
  s.write('ping');
  const [data] = (await once(s, 'data')) as [Buffer];
  s.destroy();
  return data.toString();
}

test('startProxy forwards, cut() refuses connections, restore() accepts again on the same port', async () => {
  const { server, port } = await echo();
  const proxy = await startProxy('127.0.0.1', port);
  try {
    expect(proxy.url).toBe(`http://127.0.0.1:${proxy.port}`);
    expect(await roundTrip(proxy.port)).toBe('ping');
    await proxy.cut();
    await expect(roundTrip(proxy.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await proxy.restore();
    expect(await roundTrip(proxy.port)).toBe('ping');
  } finally {
    await proxy.close();
    server.close();
  }
});

test('readyStatus is 0 when nothing answers', async () => {
  const { server, port } = await echo();
  server.close();
  await once(server, 'close');
  expect(await readyStatus(`http://127.0.0.1:${port}`)).toBe(0);
});
