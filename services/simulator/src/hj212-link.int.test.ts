// A real TCP peer acting as the centre: it acknowledges with 9014 (built by @offsite/hj212),
// ignores the first copy of every third packet, and goes away for a while, so the link's
// resend and cache replay are exercised over real sockets.
import net from 'node:net';
import { dataAck, decodePacket, encodePacket, FrameSplitter, dataCp } from '@offsite/hj212';
import { silentLogger, until } from '@offsite/testing';
import { Hj212Link } from './hj212-link.js';

interface Centre {
  port: number;
  received: string[];
  close(): Promise<void>;
}

async function startCentre(port = 0): Promise<Centre> {
  const received: string[] = [];
  const seen = new Set<string>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    const splitter = new FrameSplitter();
    s.on('data', (chunk) => {
      for (const ev of splitter.push(chunk)) {
        if (ev.kind !== 'frame') continue;
        const d = decodePacket(ev.frame);
        if (!d.ok || !d.packet.qn) continue;
        received.push(d.packet.qn);
        const n = Number(d.packet.qn.slice(-3));
        if (n % 3 === 0 && !seen.has(d.packet.qn)) {
          seen.add(d.packet.qn); // drop the ack of the first copy
          continue;
        }
        s.write(encodePacket(dataAck(d.packet)));
      }
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const packet = (i: number) => ({
  qn: `20260501000000${String(i).padStart(3, '0')}`,
  st: '31',
  cn: '2011',
  pw: 'pw123456',
  mn: 'MN-LINK-TEST',
  flag: 5,
  cp: dataCp('20260501000000', [{ code: 'a21026', stat: 'Rtd', value: i }], { a21026: 'N' }),
});

it('resends on a missing 9014 and replays its cache in order after the centre comes back', async () => {
  let centre = await startCentre();
  const port = centre.port;
  const delivered: string[] = [];
  const link = new Hj212Link({
    host: '127.0.0.1',
    port,
    mn: 'MN-LINK-TEST',
    sm4Key: null,
    ackTimeoutMs: 150,
    maxResends: 3,
    reconnectMinMs: 50,
    reconnectMaxMs: 200,
    logger: silentLogger,
    onDelivered: (p) => delivered.push(String(p.qn)),
  });
  for (let i = 1; i <= 6; i++) link.enqueue(packet(i));
  await until(() => delivered.length === 6, 10_000, 'first six acked');
  expect(link.snapshot().resends).toBe(2); // qn …003 and …006

  const first = centre;
  await first.close();
  for (let i = 7; i <= 12; i++) link.enqueue(packet(i));
  await new Promise((r) => setTimeout(r, 300));
  expect(link.pending).toBe(6); // cached while the centre is away
  centre = await startCentre(port);
  await until(() => delivered.length === 12, 15_000, 'cache replayed');
  expect(delivered).toEqual(Array.from({ length: 12 }, (_, i) => packet(i + 1).qn));
  expect(await link.close()).toBe(0);
  await centre.close();
});
