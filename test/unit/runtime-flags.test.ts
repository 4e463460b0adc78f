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

  it('are in `npm start` and in the delivery benchmark, which runs the worker in its own process', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    for (const name of ['start', 'bench:delivery']) {
      for (const flag of STARTUP_V8_FLAGS) expect(scripts[name]!.split(' ')).toContain(flag);
    }
  });
});
