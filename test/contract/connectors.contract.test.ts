import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectorContract } from '@formhub/sdk';
import { loadPlugin } from '../../src/plugins/index.ts';
import { CONNECTORS, ROOT } from './connector-fixtures.ts';

/**
 * STYLE.md, rule 9: every connector, built-in or not, passes the SDK's one contract
 * (sdk/src/contract.ts), and the hub's own loader accepts it. Fixtures live in
 * connector-fixtures.ts.
 */

// A fixture that cannot even be built (its entry file is gone, or fails to import) becomes
// that connector's failing check, not an error that hides the others.
const resolved = await Promise.all(
  CONNECTORS.map(async (entry) => ({
    ...entry,
    fixture: await entry.fixture().catch((error: unknown) => `cannot be loaded: ${String(error)}`),
  })),
);

/** Every folder in `directory` (connectors/ or plugins/), whether or not it has an entry file. */
function pluginFolders(directory: string): string[] {
  const root = join(ROOT, directory);
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => `${directory}/${d.name}`);
}

/** The entry file the hub's loader would load from a plugin folder, if there is one. */
const ENTRY_FILES = ['index.ts', 'index.js', 'index.mjs'];
const hasEntry = (folder: string) => ENTRY_FILES.some((f) => existsSync(join(ROOT, folder, f)));

describe('connector contract coverage', () => {
  // A plugin's own test that calls connectorContract does not count: vitest.config.ts runs
  // only test/, sdk/test/ and console/test/, so such a test would never run in this suite.
  // Every folder is run through the contract here, from an entry in connector-fixtures.ts.
  const folders = [...pluginFolders('connectors'), ...pluginFolders('plugins')];
  const covered = new Set(CONNECTORS.map((c) => c.entry.slice(0, c.entry.lastIndexOf('/'))));

  it('every folder in connectors/ and plugins/ has an entry in connector-fixtures.ts', () => {
    expect(folders.length).toBeGreaterThan(0);
    expect(
      folders.filter((folder) => !covered.has(folder)),
      'add an entry to test/contract/connector-fixtures.ts',
    ).toEqual([]);
  });

  it('every such folder has an entry point the hub can load', () => {
    expect(
      folders.filter((folder) => !hasEntry(folder)),
      `a plugin folder needs one of ${ENTRY_FILES.join(', ')}`,
    ).toEqual([]);
  });
});

for (const connector of resolved) {
  const { fixture } = connector;
  if (typeof fixture === 'string') {
    // Not a skip: a connector that cannot be run through the contract is a failure to fix.
    describe(`${connector.name}: connector contract`, () => {
      it('can be run through the contract', () => {
        expect.fail(`${connector.entry}: ${fixture}`);
      });
    });
    continue;
  }
  describe(`${connector.name}: connector contract`, () => {
    it('the hub loads it, compiles its config schema (Ajv 2020) and accepts the fixture config', async () => {
      const loaded = await loadPlugin(join(ROOT, connector.entry));
      expect(loaded.metadata.id).toBe(fixture.plugin().metadata.id);
      const config = fixture.config('http://127.0.0.1:9');
      const valid = loaded.validateConfig(config);
      expect(valid, JSON.stringify(loaded.validateConfig.errors)).toBe(true);
    });
    for (const check of connectorContract(fixture)) it(check.name, check.run);
  });
}
