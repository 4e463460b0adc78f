/**
 * The node command-line flags of every process a benchmark starts, bare baselines included:
 * the flags the hub runs with (`npm start`, bin/formhub.js), so that a hub-versus-bare ratio
 * compares code, not V8 settings (64 MB semi-spaces alone change how often a busy process
 * scavenges, docs/benchmarks/delivery-analytics.md).
 */

import { RUNTIME_V8_FLAGS, STARTUP_V8_FLAGS } from '../../src/cli/runtime-flags.ts';

/**
 * The hub's V8 flags as node arguments: STARTUP_V8_FLAGS, which V8 reads only at start, and
 * RUNTIME_V8_FLAGS, which bin/formhub.js sets at run time and node accepts on its command
 * line just as well.
 */
export const HUB_NODE_FLAGS: readonly string[] = [...STARTUP_V8_FLAGS, ...RUNTIME_V8_FLAGS];

/** Node arguments, before the script, that run TypeScript (tsx) with the hub's flags. */
export const BENCH_EXEC_ARGV: readonly string[] = [
  ...HUB_NODE_FLAGS,
  '--conditions=formhub-source',
  '--import',
  'tsx',
];

/** Node arguments that run a TypeScript bench script (bare server, receiver) with the hub's flags. */
export function benchScriptArgs(script: string): string[] {
  return [...BENCH_EXEC_ARGV, script];
}
