import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { acquireDataDirLock } from '../../src/db/data-dir-lock.ts';
import { DataDirInUseError, openDatabase, type Database } from '../../src/db/index.ts';
import { IDLE_IN_TRANSACTION_MS } from '../../src/db/session-queue.ts';

/**
 * The owner of DATA_DIR serves its PGlite on a Unix socket. PGlite has ONE session, which
 * the hub's own queries share with the socket's clients: neither may ever run a statement
 * inside the other's transaction.
 */
describe('the embedded database served on its socket', () => {
  let dir: string;
  let owner: Database;
  const clients: pg.Client[] = [];
  const count = async (db: { query: Database['query'] }) =>
    (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM probe')).rows[0]!.n;

  async function client(): Promise<pg.Client> {
    const c = new pg.Client({ host: join(dir, 'run'), user: 'postgres', database: 'postgres' });
    c.on('error', () => undefined); // a test that cuts the connection expects the error
    await c.connect();
    clients.push(c);
    return c;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'formhub-socket-'));
    owner = await openDatabase(loadConfig({ DATA_DIR: dir }), { command: 'the test' });
    await owner.query('CREATE TABLE probe (v int)');
  }, 60_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await owner?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is private to the user: the folder 0700, the socket 0600', () => {
    expect(statSync(join(dir, 'run')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'run', '.s.PGSQL.5432')).mode & 0o777).toBe(0o600);
  });

  it('keeps the hub’s queries out of a client’s open transaction', async () => {
    const c = await client();
    await c.query('BEGIN');
    await c.query('INSERT INTO probe VALUES (1)');
    const seenByHub = count(owner); // must wait for the client's transaction to end
    await c.query('SELECT 1');
    await c.query('ROLLBACK');
    expect(await seenByHub).toBe(0);
  });

  it('keeps a client’s statements out of the hub’s open transaction', async () => {
    const c = await client();
    let seenByClient: Promise<number> | undefined;
    await owner
      .transaction(async (tx) => {
        await tx.query('INSERT INTO probe VALUES (2)');
        seenByClient = count(c);
        // Event-loop turns (PGlite's own awaits never reach the I/O phase): the client's
        // message reaches the server while this transaction is open.
        for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
        await tx.query('SELECT 1');
        throw new Error('roll back');
      })
      .catch((error: Error) => expect(error.message).toBe('roll back'));
    expect(await seenByClient).toBe(0);
  });

  it('rolls back what a client left open when it disconnects, and frees the database', async () => {
    const c = await client();
    await c.query('BEGIN');
    await c.query('INSERT INTO probe VALUES (3)');
    const closed = new Promise((resolve) => c.once('end', resolve));
    (c as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    await closed;
    expect(await count(owner)).toBe(0);
    await owner.query('INSERT INTO probe VALUES (4)');
    expect(await count(await client())).toBe(1);
    await owner.query('DELETE FROM probe');
  });

  it(
    'disconnects a client idle inside a transaction, so the hub is not held for long',
    async () => {
      const c = await client();
      const cut = new Promise((resolve) => c.once('end', resolve));
      await c.query('BEGIN');
      await c.query('INSERT INTO probe VALUES (6)');
      const seenByHub = count(owner); // waits until the server gives up on the client
      await cut;
      expect(await seenByHub).toBe(0);
    },
    IDLE_IN_TRANSACTION_MS + 30_000,
  );

  it('is what a second process gets with `share` (writes visible to the owner at once); `own` refuses', async () => {
    const config = loadConfig({ DATA_DIR: dir });
    const shared = await openDatabase(config, { embedded: 'share', command: 'a sharer' });
    try {
      await shared.transaction(async (tx) => tx.query('INSERT INTO probe VALUES (5)'));
      expect(await count(owner)).toBe(1);
    } finally {
      await shared.close();
      await owner.query('DELETE FROM probe');
    }
    const refused = await openDatabase(config, { command: 'a second owner' }).catch(
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(DataDirInUseError);
    expect((refused as Error).message).toContain(`is in use by the test (pid ${process.pid})`);
  });
});

describe('the DATA_DIR lock file', () => {
  let dir: string;
  let path: string;
  const socket = '/nowhere/.s.PGSQL.5432';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'formhub-lock-'));
    path = join(dir, 'pglite.lock');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const take = () => acquireDataDirLock(path, { command: 'the test', socket });
  const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid;

  it('is taken by one holder at a time and removed on release', () => {
    const first = take();
    expect('lock' in first).toBe(true);
    expect(take()).toEqual({
      holder: expect.objectContaining({ pid: process.pid, command: 'the test' }),
    });
    if ('lock' in first) first.lock.release();
    expect(() => readFileSync(path)).toThrow(/ENOENT/);
  });

  it.each([
    [
      'a process that is gone',
      () => JSON.stringify({ pid: deadPid(), command: 'formhub serve', socket }),
    ],
    [
      'this very pid, from before a restart',
      () => JSON.stringify({ pid: process.pid, command: 'formhub serve', socket }),
    ],
    [
      'a reused pid (another start time)',
      () => JSON.stringify({ pid: process.ppid, started: '1', command: 'x', socket }),
    ],
    ['something that is not a lock', () => 'garbage'],
  ])('names %s: it is stale and taken over', (_, text) => {
    writeFileSync(path, text());
    const attempt = take();
    expect('lock' in attempt).toBe(true);
    if ('lock' in attempt) attempt.lock.release();
  });

  it('names a live process: it is held', () => {
    writeFileSync(path, JSON.stringify({ pid: process.ppid, command: 'formhub serve', socket }));
    expect(take()).toEqual({ holder: expect.objectContaining({ pid: process.ppid }) });
    rmSync(path);
  });
});
