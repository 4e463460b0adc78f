import { connect, createServer, type Socket } from 'node:net';

export interface Forwarder {
  port: number;
  close(): Promise<void>;
}

/**
 * A TCP forwarder in this process: listens on `host` (a free port) and pipes every
 * connection to `target`. The multi-host test runs one for PostgreSQL and one for Redis on
 * the bridge address, because both listen on loopback only and must not be reconfigured.
 */
export async function startForwarder(
  host: string,
  target: { host: string; port: number },
): Promise<Forwarder> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      // One side failing ends both; the hub sees a dropped connection and reconnects.
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
