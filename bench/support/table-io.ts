/**
 * What a phase did to the delivery tables of its own database, from PostgreSQL's statistics
 * views: row updates and how many of them were HOT, buffer pages touched (heap, TOAST and
 * indexes, hit or read) and bytes added. Unlike CPU time these counts do not depend on how
 * busy the machine is, and unlike WAL volume (one figure for the whole cluster, which other
 * databases share) they are this database's alone.
 *
 * Backends report their counts when they go idle, at most once a second: `snapshot` after a
 * phase waits for that first.
 */

import pg from 'pg';

/** The tables an attempt reads or writes (those that do not exist are left out). */
const TABLES = ['deliveries', 'delivery_payloads', 'delivery_schedule', 'delivery_attempts'];

interface TableCounts {
  updates: number;
  hotUpdates: number;
  /** heap + TOAST + index pages, hit or read. */
  pages: number;
  bytes: number;
}

export type TableSnapshot = Map<string, TableCounts>;

export interface TableIo {
  /** Per table: updates and HOT updates per delivery, pages touched per delivery, bytes per delivery. */
  tables: {
    table: string;
    updatesPerDelivery: number;
    hotShare: number | null;
    pagesPerDelivery: number;
    bytesPerDelivery: number;
  }[];
  /** All of them together. */
  pagesPerDelivery: number;
  bytesPerDelivery: number;
}

export async function snapshotTables(databaseUrl: string, settleMs = 0): Promise<TableSnapshot> {
  if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs));
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{
      table: string;
      updates: string;
      hot: string;
      pages: string;
      bytes: string;
    }>(
      `SELECT t.relname AS table, t.n_tup_upd AS updates, t.n_tup_hot_upd AS hot,
         coalesce(io.heap_blks_hit, 0) + coalesce(io.heap_blks_read, 0)
           + coalesce(io.idx_blks_hit, 0) + coalesce(io.idx_blks_read, 0)
           + coalesce(io.toast_blks_hit, 0) + coalesce(io.toast_blks_read, 0)
           + coalesce(io.tidx_blks_hit, 0) + coalesce(io.tidx_blks_read, 0) AS pages,
         pg_total_relation_size(t.relid) AS bytes
       FROM pg_stat_user_tables t JOIN pg_statio_user_tables io USING (relid)
       WHERE t.relname = ANY($1::text[])`,
      [TABLES],
    );
    return new Map(
      rows.map((r) => [
        r.table,
        {
          updates: Number(r.updates),
          hotUpdates: Number(r.hot),
          pages: Number(r.pages),
          bytes: Number(r.bytes),
        },
      ]),
    );
  } finally {
    await client.end();
  }
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

export function tableIoBetween(
  before: TableSnapshot,
  after: TableSnapshot,
  deliveries: number,
): TableIo {
  const tables: TableIo['tables'] = [];
  let pages = 0;
  let bytes = 0;
  for (const table of TABLES) {
    const a = after.get(table);
    if (!a) continue;
    const b = before.get(table) ?? { updates: 0, hotUpdates: 0, pages: 0, bytes: 0 };
    const updates = a.updates - b.updates;
    pages += a.pages - b.pages;
    bytes += a.bytes - b.bytes;
    tables.push({
      table,
      updatesPerDelivery: round(updates / deliveries, 2),
      hotShare: updates > 0 ? round((a.hotUpdates - b.hotUpdates) / updates, 3) : null,
      pagesPerDelivery: round((a.pages - b.pages) / deliveries, 2),
      bytesPerDelivery: round((a.bytes - b.bytes) / deliveries, 0),
    });
  }
  return {
    tables,
    pagesPerDelivery: round(pages / deliveries, 2),
    bytesPerDelivery: round(bytes / deliveries, 0),
  };
}
