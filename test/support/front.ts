/**
 * A TCP front the flow holds for its whole run: the simulated data loggers connect to its port, and it
 * relays each connection to the hj212-gateway that is currently up. While the gateway is dead (between
 * a kill and the restarted gateway's readiness) it refuses connections, the way a closed port would.
 *
 * Why: a gateway restarted on "the same free port" leaves that port unbound during the kill gap, and on
 * a shared machine another process (someone else's gateway) can take it; the loggers then reconnect to
 * that stranger, which acknowledges their packets into its own Kafka. The front's listening socket is
 * never released, and it only relays to a port after our own gateway answered /readyz on it.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { relay } from '@offsite/testing';

export interface TcpFront {
  readonly port: number;
  /** Relay new connections to this local port, or refuse them (null). Open relays are left alone. */
  route(target: number | null): void;
  /** Connections accepted so far: relayed, refused. */
  stats(): { relayed: number; refused: number };
  close(): Promise<void>;
}

export async function startFront(): Promise<TcpFront> {
  let target: number | null = null;
  const stats = { relayed: 0, refused: 0 };
  const open = new Set<Socket>();
  const server = createServer((client) => {
    if (target === null) {
      stats.refused++;
      client.resetAndDestroy();
      return;
    }
    stats.relayed++;
    relay(client, '127.0.0.1', target, open);
  });
  await listen(server);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    route: (t) => (target = t),
    stats: () => ({ ...stats }),
    close: async () => {
      for (const s of open) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * A stranger on a port: accepts connections and reads whatever arrives (never answers). The kill flow
 * binds one on every port a killed gateway released; any byte reaching it is a logger that left the run.
 */
export async function startStranger(port: number): Promise<{
  connections(): number;
  bytes(): number;
  close(): Promise<void>;
} | null> {
  let connections = 0;
  let bytes = 0;
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    connections++;
    sockets.add(s);
    s.on('data', (d: Buffer) => (bytes += d.length));
    s.on('error', () => undefined).on('close', () => sockets.delete(s));
  });
  try {
    await listen(server, port);
  } catch {
    // Already taken by someone else: nothing to prove with this port.
    return null;
  }
  return {
    connections: () => connections,
    bytes: () => bytes,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function listen(server: Server, port = 0): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}
