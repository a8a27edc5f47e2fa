// The gateway-port hazard of the kill flow, reproduced without servers: a gateway restarted on "the
// same free port" leaves that port unbound during the kill gap, a stranger binds it, and a logger that
// reconnects to the port lands on the stranger. Through the front (support/front.ts), whose port the
// flow holds for the whole run and which relays only to a gateway that answered ready, it never does.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { startFront, startStranger } from './support/front.js';

/** A stand-in gateway: answers every line with "<name>:<line>". */
async function gateway(name: string): Promise<{ port: number; server: Server }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => s.write(`${name}:${d.toString()}`));
  });
  // Closing the server also drops its connections, as a killed process would.
  const close = server.close.bind(server);
  server.close = (cb) => {
    for (const s of sockets) s.destroy();
    return close(cb);
  };
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  return { port: typeof a === 'object' && a ? a.port : 0, server };
}

/** Connects, sends `msg`, resolves with the first answer, or with the error code / 'closed'. */
function ask(port: number, msg: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const done = (v: string) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(2_000, () => done('timeout'));
    s.on('connect', () => s.write(msg));
    s.on('data', (d: Buffer) => done(d.toString()));
    s.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? 'error'));
    s.on('close', () => done('closed'));
  });
}

const closeServer = (s: Server) => new Promise<void>((r) => s.close(() => r()));

test('direct: a logger reconnecting to a killed gateway port reaches the stranger that took it', async () => {
  const a = await gateway('A');
  expect(await ask(a.port, 'x')).toBe('A:x');
  await closeServer(a.server);
  const stranger = await startStranger(a.port);
  if (!stranger) throw new Error('port taken');
  expect(await ask(a.port, 'y')).toBe('timeout');
  expect(stranger.connections()).toBe(1);
  expect(stranger.bytes()).toBe(1);
  await stranger.close();
});

test('through the front: refused during the gap, then the restarted gateway on its new port; the stranger sees nothing', async () => {
  const front = await startFront();
  const a = await gateway('A');
  front.route(a.port);
  expect(await ask(front.port, 'x')).toBe('A:x');
  // Kill: the front stops relaying first, then the gateway's port is free and a stranger takes it.
  front.route(null);
  await closeServer(a.server);
  const stranger = await startStranger(a.port);
  if (!stranger) throw new Error('port taken');
  expect(['closed', 'ECONNRESET']).toContain(await ask(front.port, 'y'));
  const b = await gateway('B');
  front.route(b.port);
  expect(await ask(front.port, 'z')).toBe('B:z');
  expect(stranger.connections()).toBe(0);
  expect(front.stats()).toEqual({ relayed: 2, refused: 1 });
  await stranger.close();
  await closeServer(b.server);
  await front.close();
});
