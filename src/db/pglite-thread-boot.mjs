// The entry of the embedded database's worker thread (pglite-thread-database.ts): a worker
// starts without the main thread's TypeScript loader, so it registers tsx's own first.
import { register } from 'tsx/esm/api';

register();
await import('./pglite-thread.ts');
