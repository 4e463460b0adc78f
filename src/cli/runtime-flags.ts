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
