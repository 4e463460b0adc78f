import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of PostgreSQL, which can cut the sessions whose startup
 * message names `cutName` as their application_name (the hub's outbox listener) and refuse
 * new ones, while every other session (the hub's pool) goes on: the listener sees its
 * server vanish as in a restart or a network cut, and nothing else does.
 */
export interface PgProxy {
  /** `url` with its host and port replaced by the proxy's. */
  url: string;
  /** Destroys the named sessions and refuses new ones until `restore`. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/** Reads the client's startup message (int32 length first, length included). */
function startupOf(client: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length >= 4 && buffered.length >= buffered.readInt32BE(0)) {
        client.off('data', onData);
        client.off('error', reject);
        resolve(buffered);
      }
    };
    client.on('data', onData);
    client.once('error', reject);
  });
}

export async function startPgProxy(target: string, cutName: string): Promise<PgProxy> {
  const upstream = new URL(target);
  const named = new Set<Socket>();
  const all = new Set<Socket>();
  let cutting = false;
  const server: Server = createServer((client) => {
    all.add(client);
    client.on('close', () => all.delete(client));
    client.on('error', () => client.destroy());
    void startupOf(client).then(
      (startup) => {
        const isNamed = startup.includes(Buffer.from(`application_name\0${cutName}\0`));
        if (isNamed && cutting) return void client.destroy();
        const server = connect(Number(upstream.port || 5432), upstream.hostname);
        server.on('error', () => client.destroy());
        client.on('close', () => server.destroy());
        server.on('close', () => client.destroy());
        if (isNamed) {
          named.add(client);
          client.on('close', () => named.delete(client));
        }
        server.write(startup);
        client.pipe(server);
        server.pipe(client);
      },
      () => client.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    cut() {
      cutting = true;
      for (const socket of named) socket.destroy();
    },
    restore() {
      cutting = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of all) socket.destroy();
      }),
  };
}
