import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { freePort, startServer } from '../support/process.ts';

/**
 * A `formhub api` child process on its own database, for measuring what an export costs the
 * hub itself (its RSS, its event loop), not the test process. Shared by the security tests
 * and `bench/export.ts`.
 */
export interface ExportHub {
  baseUrl: string;
  pid: number;
  key: string;
  workspaceId: string;
  stop(): Promise<number | null>;
}

const ADMIN = 'export-hub-admin-key-0123456789';

/**
 * Starts `formhub api` (one process) on `databaseUrl` with `env`, and creates a workspace
 * unless `workspace` (one made by an earlier hub on the same database) is given. Without a
 * `databaseUrl`, `formhub serve` on the embedded database of `dataDir` (`npm start`).
 */
export async function startExportHub(
  databaseUrl: string | undefined,
  dataDir: string,
  env: Record<string, string> = {},
  workspace?: { id: string; key: string },
): Promise<ExportHub> {
  const port = await freePort();
  const server = await startServer(
    databaseUrl ? ['api', '--workers', '1'] : ['serve'],
    {
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      DATA_DIR: dataDir,
      REDIS_PREFIX: `formhub-test:${randomBytes(4).toString('hex')}:`,
      FORMHUB_ADMIN_KEY: ADMIN,
      FORMHUB_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'warn',
      ...env,
    },
    port,
    150_000, // a first start on the embedded database creates it
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  const pid = server.child.pid!;
  // A hub stuck in a hostile export may not stop on SIGTERM: killed after 10 s.
  const stop = async () => {
    const timer = setTimeout(() => server.child.kill('SIGKILL'), 10_000);
    try {
      return await server.stop();
    } finally {
      clearTimeout(timer);
    }
  };
  if (workspace) return { baseUrl, pid, key: workspace.key, workspaceId: workspace.id, stop };
  const res = await fetch(`${baseUrl}/api/v2/workspaces`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'exports' }),
  });
  if (res.status !== 201) throw new Error(`workspace: ${res.status} ${await res.text()}`);
  const ws = (await res.json()) as { id: string; api_key: string };
  return { baseUrl, pid, key: ws.api_key, workspaceId: ws.id, stop };
}

/** Creates a form with a `note` (textarea) and an `n` (integer) field; answers its id. */
export async function createNoteForm(hub: ExportHub, title = 'Notes'): Promise<string> {
  const res = await fetch(`${hub.baseUrl}/api/v2/forms`, {
    method: 'POST',
    headers: { authorization: `Bearer ${hub.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      title,
      fields: [
        { key: 'note', type: 'textarea' },
        { key: 'n', type: 'integer' },
      ],
    }),
  });
  if (res.status !== 201) throw new Error(`form: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

/**
 * Inserts `count` completed responses whose `note` is about `bytes` long (words of 32 hex digits) straight
 * into the database, in batches so that no statement builds more than ~64 MB.
 */
export async function insertNotes(
  databaseUrl: string,
  workspaceId: string,
  formId: string,
  count: number,
  bytes: number,
): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const batch = Math.max(1, Math.floor((64 * 1024 * 1024) / Math.max(bytes, 1)));
    for (let from = 1; from <= count; from += batch) {
      const to = Math.min(count, from + batch - 1);
      await client.query(
        `INSERT INTO responses (id, workspace_id, form_id, form_version, data, completed, submitted_at, updated_at)
         SELECT gen_random_uuid(), $1, $2, 1,
           jsonb_build_object('note', left(repeat(md5(i::text) || ' ', ($5::int / 33) + 1), $5::int), 'n', i), true,
           timestamptz '2025-01-01' + i * interval '1 second', now()
         FROM generate_series($3::int, $4::int) AS i`,
        [workspaceId, formId, from, to, bytes],
      );
    }
  } finally {
    await client.end();
  }
}

/** The resident set size of a process, in bytes, from /proc/<pid>/status (Linux). */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb) * 1024;
}

/** Samples a process's RSS every `intervalMs` until stopped; answers the peak growth over the first sample. */
export function sampleRss(
  pid: number,
  intervalMs = 25,
): { stop(): { baseline: number; peak: number; growth: number } } {
  const baseline = rssOf(pid);
  let peak = baseline;
  const take = () => {
    try {
      peak = Math.max(peak, rssOf(pid));
    } catch {
      // The process exited (e.g. killed by its heap limit): the peak so far stands.
    }
  };
  const timer = setInterval(take, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { baseline, peak, growth: peak - baseline };
    },
  };
}

/** Downloads `url` with the hub's key, counting bytes; answers the status and byte count. */
export async function download(
  hub: ExportHub,
  path: string,
  signal?: AbortSignal,
): Promise<{ status: number; bytes: number; body?: string }> {
  const res = await fetch(`${hub.baseUrl}${path}`, {
    headers: { authorization: `Bearer ${hub.key}` },
    signal,
  });
  if (res.status !== 200) return { status: res.status, bytes: 0, body: await res.text() };
  let bytes = 0;
  for await (const chunk of res.body!) bytes += (chunk as Uint8Array).byteLength;
  return { status: res.status, bytes };
}
