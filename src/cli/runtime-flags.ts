import { setFlagsFromString } from 'node:v8';

/**
 * V8 flags every formhub process runs with, set before the hub's code loads.
 *
 * `--no-allocation-site-pretenuring`: exceljs makes short-lived objects fast enough that V8
 * decides, after one large export, to allocate them (and pg's row objects) straight into the
 * old generation for the rest of the process; from then on every export's garbage piles up
 * there until a full GC and RSS grows with the row count (+210 MiB at 500,000 rows). Off,
 * an export's RSS stays flat at any size (docs/benchmarks/exports.md); the cost on the
 * request paths is measured in docs/BENCHMARKS.md.
 */
export const RUNTIME_V8_FLAGS = ['--no-allocation-site-pretenuring'] as const;

/** Applies RUNTIME_V8_FLAGS to this process. */
export function applyRuntimeFlags(): void {
  for (const flag of RUNTIME_V8_FLAGS) setFlagsFromString(flag);
}

/**
 * V8 flags that V8 reads only when the process starts, so they must be on node's command
 * line: `bin/formhub.js`'s shebang, `npm start`, and whatever else runs `node bin/formhub.js`
 * (test/unit/runtime-flags.test.ts keeps those in step with this list).
 *
 * `--max-semi-space-size=64`: a delivery worker keeps hundreds of attempts in flight, and
 * with V8's default young generation (16 MB semi-spaces) it scavenged 12–18 times a second,
 * 55–85 ms of every second. With 64 MB semi-spaces: 3–5 times a second, 25–40 ms
 * (docs/benchmarks/delivery-analytics.md). It costs up to 96 MB more young generation when
 * the process is busy.
 */
export const STARTUP_V8_FLAGS = ['--max-semi-space-size=64'] as const;
