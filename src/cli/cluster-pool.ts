/**
 * DATABASE_POOL_MIN/MAX bound the whole `formhub api` command: with N workers each gets its
 * share (rounded up), so `--workers` does not multiply the connections PostgreSQL must allow.
 */
export function splitPool(
  database: { poolMin: number; poolMax: number },
  workers: number,
): Record<string, string> {
  return {
    DATABASE_POOL_MIN: String(Math.ceil(database.poolMin / workers)),
    DATABASE_POOL_MAX: String(Math.max(1, Math.ceil(database.poolMax / workers))),
  };
}
