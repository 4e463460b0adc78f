#!/usr/bin/env -S node --max-semi-space-size=64
// The shebang's flag is STARTUP_V8_FLAGS (src/cli/runtime-flags.ts): V8 reads it only at start.
// Runs the TypeScript sources directly through tsx's loader: no build step to forget.
import { register as registerHooks } from 'node:module';
import { register } from 'tsx/esm/api';

register();
// Registered after tsx, so it runs first: @formhub/sdk resolves to sdk/src (bin/source-conditions.js).
registerHooks('./source-conditions.js', import.meta.url);
const { applyRuntimeFlags } = await import('../src/cli/runtime-flags.ts');
applyRuntimeFlags(); // before the hub's code loads (see the file for why)
await import('../src/cli/main.ts');
