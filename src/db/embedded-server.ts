import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketHandler } from '@electric-sql/pglite-socket';
import type { SessionLock } from './session-lock.ts';
import { SessionQueue, type MessageRunner } from './session-queue.ts';

type HandlerQueue = ConstructorParameters<typeof PGLiteSocketHandler>[0]['queryQueue'];

/**
 * The PostgreSQL wire protocol on a Unix socket, answered by the PGlite of the process that
 * owns DATA_DIR: how other formhub processes (`formhub keys create`, `migrate`, the workers
 * of `formhub api --workers N`) use the embedded database while the hub runs, instead of
 * opening its folder a second time. The socket's folder is 0700 and the socket 0600: only
 * the user running the hub can connect, and no password is asked.
 */
export class EmbeddedServer {
  private readonly connections = new Map<
    number,
    { handler: PGLiteSocketHandler; socket: Socket }
  >();
  private readonly queue: SessionQueue;
  private stopping = false;

  private constructor(
    private readonly server: Server,
    db: PGlite,
    lock: SessionLock,
    readonly path: string,
    runner: MessageRunner | undefined,
  ) {
    const drop = (id: number) => this.connections.get(id)?.socket.destroy();
    this.queue = new SessionQueue(db, lock, drop, runner);
  }

  /** Listens on `path` (a stale socket file there, left by a killed owner, is removed first). */
  static async start(
    db: PGlite,
    lock: SessionLock,
    path: string,
    runner?: MessageRunner,
  ): Promise<EmbeddedServer> {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    chmodSync(dirname(path), 0o700);
    rmSync(path, { force: true });
    const server = createServer();
    const embedded = new EmbeddedServer(server, db, lock, path, runner);
    server.on('connection', (socket) => void embedded.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(path, 0o600);
    return embedded;
  }

  /** Disconnects every client (rolling back what they left open) and removes the socket. */
  async stop(): Promise<void> {
    this.stopping = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.all([...this.connections.values()].map(({ handler }) => handler.detach(true)));
    for (const { socket } of this.connections.values()) socket.destroy();
    this.connections.clear();
    await closed;
    rmSync(this.path, { force: true });
  }

  private async accept(socket: Socket): Promise<void> {
    if (this.stopping) return void socket.destroy();
    const handler = new PGLiteSocketHandler({
      queryQueue: this.queue as unknown as HandlerQueue,
      closeOnDetach: true,
    });
    const id = handler.handlerId;
    this.connections.set(id, { handler, socket });
    // The handler has already detached itself (ending the client's session) when these fire.
    handler.addEventListener('close', () => this.connections.delete(id));
    handler.addEventListener('error', () => this.connections.delete(id));
    try {
      await handler.attach(socket);
    } catch {
      // attach throws only for a socket attached twice, which a fresh handler never is.
      this.connections.delete(id);
      socket.destroy();
    }
  }
}
