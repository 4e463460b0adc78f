import { existsSync, readdirSync, readFileSync } from 'node:fs';
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

const resolved = await Promise.all(
  CONNECTORS.map(async (entry) => ({ ...entry, fixture: await entry.fixture() })),
);

/** Plugin folders with an entry file, as the hub discovers them. */
function pluginFolders(directory: string): string[] {
  const root = join(ROOT, directory);
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter(
      (d) =>
        d.isDirectory() &&
        ['index.ts', 'index.js', 'index.mjs'].some((f) => existsSync(join(root, d.name, f))),
    )
    .map((d) => d.name);
}

/** A plugin that runs the contract in its own test, as `formhub connector new` makes them. */
function runsOwnContract(folder: string): boolean {
  const root = join(ROOT, folder);
  return readdirSync(root).some(
    (file) =>
      file.endsWith('.test.ts') &&
      readFileSync(join(root, file), 'utf8').includes('connectorContract('),
  );
}

describe('connector contract coverage', () => {
  it('every plugin folder in connectors/ and plugins/ is under the contract', () => {
    const covered = new Set(CONNECTORS.map((c) => c.name));
    const builtIn = pluginFolders('connectors').filter((name) => !covered.has(name));
    const extra = pluginFolders('plugins').filter(
      (name) => !covered.has(name) && !runsOwnContract(`plugins/${name}`),
    );
    expect(builtIn, 'add an entry to test/contract/connector-fixtures.ts').toEqual([]);
    expect(
      extra,
      'add an entry to test/contract/connector-fixtures.ts, or run connectorContract in its test',
    ).toEqual([]);
  });
});

for (const connector of resolved) {
  const { fixture } = connector;
  if (typeof fixture === 'string') {
    describe(`${connector.name}: connector contract`, () => {
      it.skip(`skipped: ${fixture}`, () => undefined);
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
