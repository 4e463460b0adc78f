/**
 * A sampling CPU profile of this process (node:inspector), summarised by where the code
 * lives (a package of node_modules, a folder of src/, node's internals, GC) and by function.
 */

import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

export interface CpuProfileSummary {
  /** Samples outside `(idle)`. */
  busySamples: number;
  intervalUs: number;
  /** Native frames (writev, GC helpers...) count for the nearest JavaScript caller's place. */
  byPlace: { place: string; share: number }[];
  byFunction: { fn: string; share: number }[];
  /** Native frames by the place of their JavaScript caller (e.g. `writev <- pg`). */
  nativeByCaller: { what: string; share: number }[];
}

export interface CpuProfiler {
  stop(): Promise<CpuProfileSummary>;
}

function placeOf(url: string, functionName: string): string {
  if (url === '') return functionName || '(unknown)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (modules) return modules[1]!;
  const src = /\/src\/([^/]+)\//.exec(url);
  if (src && !url.includes('/sdk/')) return `src/${src[1]}`;
  if (url.includes('/sdk/')) return 'sdk (@formhub/sdk)';
  if (url.includes('/connectors/')) return 'connectors';
  if (url.includes('/bench/')) return 'bench (this process)';
  if (url.startsWith('node:'))
    return url
      .replace(/^node:(internal\/)?/, 'node:')
      .split('/')
      .slice(0, 2)
      .join('/');
  return url;
}

export async function startCpuProfile(intervalUs = 500): Promise<CpuProfiler> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = (await session.post('Profiler.stop')) as unknown as {
        profile: { nodes: ProfileNode[] };
      };
      session.disconnect();
      // CPU_PROFILE_OUT=file.cpuprofile keeps the raw profile (for Chrome DevTools or speedscope).
      if (process.env.CPU_PROFILE_OUT)
        writeFileSync(process.env.CPU_PROFILE_OUT, JSON.stringify(profile));
      const places = new Map<string, number>();
      const functions = new Map<string, number>();
      const natives = new Map<string, number>();
      const parent = new Map<number, ProfileNode>();
      const byId = new Map(profile.nodes.map((n) => [n.id, n]));
      for (const node of profile.nodes)
        for (const child of node.children ?? []) parent.set(child, node);
      const SPECIAL = new Set(['(garbage collector)', '(program)', '(idle)', '(root)']);
      /** The place of the nearest ancestor that is JavaScript code outside node's own modules. */
      const callerPlace = (node: ProfileNode): string => {
        let up = parent.get(node.id);
        let fallback = '(no caller)';
        for (let depth = 0; up && depth < 200; depth++) {
          if (up.callFrame.url !== '') {
            const place = placeOf(up.callFrame.url, up.callFrame.functionName);
            if (!place.startsWith('node:')) return place;
            if (fallback === '(no caller)') fallback = place;
          }
          up = parent.get(up.id);
        }
        return fallback;
      };
      let busy = 0;
      for (const node of profile.nodes) {
        const hits = node.hitCount ?? 0;
        if (hits === 0 || node.callFrame.functionName === '(idle)' || !byId.has(node.id)) continue;
        busy += hits;
        const native = node.callFrame.url === '' && !SPECIAL.has(node.callFrame.functionName);
        const place = native
          ? callerPlace(node)
          : placeOf(node.callFrame.url, node.callFrame.functionName);
        if (native) {
          const what = `${node.callFrame.functionName || '(native)'} <- ${place}`;
          natives.set(what, (natives.get(what) ?? 0) + hits);
        }
        places.set(place, (places.get(place) ?? 0) + hits);
        const file = node.callFrame.url.split('/').slice(-2).join('/');
        const fn = `${node.callFrame.functionName || '(anonymous)'} ${file}:${node.callFrame.lineNumber + 1}`;
        functions.set(fn, (functions.get(fn) ?? 0) + hits);
      }
      const top = (map: Map<string, number>, n: number) =>
        [...map.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, n)
          .map(([key, hits]) => ({ key, share: busy > 0 ? hits / busy : 0 }));
      return {
        busySamples: busy,
        intervalUs,
        byPlace: top(places, 14).map(({ key, share }) => ({ place: key, share })),
        byFunction: top(functions, 15).map(({ key, share }) => ({ fn: key, share })),
        nativeByCaller: top(natives, 10).map(({ key, share }) => ({ what: key, share })),
      };
    },
  };
}
