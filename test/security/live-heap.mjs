// Preloaded into a child hub (NODE_OPTIONS=--import) by export-loop.test.ts: gives its main
// thread a live heap of LIVE_HEAP_MB (default 180) of small objects shaped like the hub's
// own (parsed rows, cached forms), which a stop-the-world full GC must mark. Only the main
// thread: a worker thread (an export thread) starts with its own small heap, as in production.
import process from 'node:process';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) {
  const target = Number(process.env.LIVE_HEAP_MB ?? 180) * 1024 * 1024;
  const live = [];
  while (process.memoryUsage().heapUsed < target) {
    for (let i = 0; i < 10_000; i++) {
      const n = live.length;
      live.push({
        id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
        submitted_at: new Date(1_700_000_000_000 + n),
        data: {
          name: `name ${n}`,
          email: `user${n}@example.com`,
          age: n % 90,
          tags: ['a', String(n % 7)],
        },
        metadata: { source: 'test', ua: 'Mozilla/5.0 (X11; Linux x86_64)'.repeat(4), n },
      });
    }
  }
  globalThis.__formhubLiveHeap = live;
}
