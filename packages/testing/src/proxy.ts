import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * Relays an accepted connection to `host:port`, tracking both sockets in `open` until they close. Either
 * side failing ends both, so the client sees its link drop exactly as with a direct connection; `pipe`
 * ends the other side on a FIN after flushing what was written (a reply right before a close arrives).
 */
export function relay(client: Socket, host: string, port: number, open: Set<Socket>): void {
  const upstream = connect({ host, port });
  open.add(client).add(upstream);
  const drop = () => {
    client.destroy();
    upstream.destroy();
    open.delete(client);
    open.delete(upstream);
  };
  client.on('error', drop).on('close', drop);
  upstream.on('error', drop).on('close', drop);
  client.pipe(upstream);
  upstream.pipe(client);
}

/** A loopback TCP proxy to `target`; cut() refuses and drops connections, restore() accepts again. */
export interface CuttableProxy {
  url: string;
  port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a proxy on an ephemeral loopback port, to simulate a server outage without touching the shared server. */
export async function startProxy(targetHost: string, targetPort: number): Promise<CuttableProxy> {
  const sockets = new Set<Socket>();
  let server: Server;
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server = createServer((client) => relay(client, targetHost, targetPort, sockets));
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const a = server.address();
        resolve(typeof a === 'object' && a ? a.port : port);
      });
    });
  const port = await listen(0);
  const closeServer = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      server.close(() => resolve());
    });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    cut: closeServer,
    async restore() {
      await listen(port);
    },
    close: closeServer,
  };
}
