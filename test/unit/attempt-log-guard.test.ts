import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Every .ts file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/**
 * The attempt log and the payloads have no foreign key to `deliveries` (migration 5: checking
 * it cost a row lock per attempt; migration 23 likewise). So code that deletes deliveries,
 * directly or by deleting what they cascade from, must delete their attempts and payloads
 * itself: retention and erasure do, in the statement that deletes the deliveries.
 */
describe('the attempt log and payloads without a foreign key', () => {
  it('no source deletes deliveries, integrations, forms or workspaces without deleting attempts and payloads', () => {
    const offenders = sources(join(import.meta.dirname, '../../src'))
      .filter((file) => !file.includes('/migrations/'))
      .filter((file) => {
        const text = readFileSync(file, 'utf8');
        return (
          /DELETE\s+FROM\s+(deliveries|integrations|forms|workspaces)\b/i.test(text) &&
          !(
            /DELETE\s+FROM\s+delivery_attempts\b/i.test(text) &&
            /DELETE\s+FROM\s+delivery_payloads\b/i.test(text)
          )
        );
      });
    expect(offenders).toEqual([]);
  });
});
