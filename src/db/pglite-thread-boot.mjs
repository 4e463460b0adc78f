// The entry of the embedded database's worker thread (pglite-thread-database.ts): a worker
// starts without the main thread's TypeScript loader, so it registers tsx's own first.
import { register as registerHooks } from 'node:module';
import { register } from 'tsx/esm/api';

register();
// As bin/formhub.js does: @formhub/sdk resolves to its sources here too, never a stale build.
registerHooks('../../bin/source-conditions.js', import.meta.url);
await import('./pglite-thread.ts');
