// The entry of an export thread (export-thread-pool.ts): a worker starts without the main
// thread's TypeScript loader, so it registers tsx's own first.
import { register } from 'tsx/esm/api';

register();
await import('./export-thread.ts');
