import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { STARTUP_V8_FLAGS } from '../../src/cli/runtime-flags.ts';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** V8 reads these flags only at start: every way the project starts formhub must pass them. */
describe('startup V8 flags', () => {
  it('are on bin/formhub.js’s shebang line', () => {
    const shebang = read('bin/formhub.js').split('\n')[0]!;
    expect(shebang.startsWith('#!/usr/bin/env -S node')).toBe(true);
    for (const flag of STARTUP_V8_FLAGS) expect(shebang.split(' ')).toContain(flag);
  });

  it('are in `npm start` and in every benchmark script, so that benchmarks measure the hub as it runs', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> })
      .scripts;
    const benches = Object.keys(scripts).filter((name) => name.startsWith('bench:'));
    expect(benches.length).toBeGreaterThan(5);
    for (const name of ['start', ...benches]) {
      for (const flag of STARTUP_V8_FLAGS) expect(scripts[name]!.split(' ')).toContain(flag);
    }
  });
});
