import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import {
  createNoteForm,
  download,
  insertNotes,
  sampleRss,
  startExportHub,
  type ExportHub,
} from './export-hub.ts';

const MB = 1024 * 1024;
/** DESIGN.md section 5: an export of any size, rows of any size up to 1 MiB, grows the process by < 100 MB. */
const BOUND_MB = 100;

/**
 * Attack: export responses much larger than usual. Pages used to be 1,000 rows whatever
 * their size: 2,000 responses of 40 KB grew the hub by ~300 MB and 100 of 1 MiB by ~420 MB.
 * The hub runs as a child process (its own flags and heap); its RSS is sampled from /proc
 * while each export streams, and the growth over the RSS just before it must stay under the
 * bound. Each format gets its own fresh process so that one export's heap does not hide the
 * next one's. (PDF of 2,000 responses of 40 KB is in the benchmark: it takes over a minute.)
 * What holds the bound: pages cut at 256 KiB and a full GC after every 16 MB exported
 * (src/exports/gc-hint.ts); without the GC, 103-172 MB (docs/BENCHMARKS.md, "Export memory").
 * These hubs run on PostgreSQL, so exports run on export threads, whose memory is part of
 * the RSS measured (every 4 MB there; docs/BENCHMARKS.md, "Forced GC pause").
 */
describe('export memory is bounded by bytes, not rows', () => {
  let database: TestDatabase;
  let dataDir: string;
  let owner: ExportHub;
  const forms: Record<'medium' | 'large', string> = { medium: '', large: '' };

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'formhub-export-memory-'));
    owner = await startExportHub(database.url, dataDir);
    forms.medium = await createNoteForm(owner, 'Forty KB');
    forms.large = await createNoteForm(owner, 'One MiB');
    await insertNotes(database.url, owner.workspaceId, forms.medium, 2_000, 40 * 1024);
    await insertNotes(database.url, owner.workspaceId, forms.large, 100, 1024 * 1024 - 64);
    await owner.stop();
  }, 120_000);

  afterAll(async () => {
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** One export on a fresh hub: a warm-up of the same format (no rows), then the real one, sampled. */
  async function growthOf(formId: string, format: string): Promise<{ mb: number; bytes: number }> {
    const hub = await startExportHub(
      database.url,
      dataDir,
      {},
      { id: owner.workspaceId, key: owner.key },
    );
    try {
      const path = `/api/v2/forms/${formId}/export?format=${format}`;
      expect((await download(hub, `${path}&until=2000-01-01`)).status).toBe(200);
      const sampler = sampleRss(hub.pid);
      const res = await download(hub, path);
      const { growth } = sampler.stop();
      expect(res.status).toBe(200);
      console.info(
        `export memory: ${format}, ${res.bytes} bytes: +${(growth / MB).toFixed(1)} MB RSS`,
      );
      return { mb: growth / MB, bytes: res.bytes };
    } finally {
      await hub.stop();
    }
  }

  it.each(['csv', 'xlsx'])(
    '2,000 responses of 40 KB as %s',
    async (format) => {
      const { mb, bytes } = await growthOf(forms.medium, format);
      expect(bytes).toBeGreaterThan(format === 'csv' ? 2_000 * 40 * 1024 : 0);
      expect(mb).toBeLessThan(BOUND_MB);
    },
    120_000,
  );

  it.each(['csv', 'xlsx', 'pdf'])(
    '100 responses of 1 MiB as %s',
    async (format) => {
      const { mb, bytes } = await growthOf(forms.large, format);
      expect(bytes).toBeGreaterThan(format === 'csv' ? 100 * MB - 100 * 64 : 0);
      expect(mb).toBeLessThan(BOUND_MB);
    },
    120_000,
  );
});
