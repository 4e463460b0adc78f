/**
 * Imported first by benchmarks that run hub code in their own process: applies the V8 flags
 * `bin/formhub.js` applies, so the figures are the hub's. BENCH_V8_DEFAULTS=1 leaves V8 as
 * it is, to measure what the flags change.
 */
import { applyRuntimeFlags, RUNTIME_V8_FLAGS } from '../../src/cli/runtime-flags.ts';

export const hubRuntimeFlags: readonly string[] =
  process.env.BENCH_V8_DEFAULTS === '1' ? [] : RUNTIME_V8_FLAGS;
if (hubRuntimeFlags.length > 0) applyRuntimeFlags();
