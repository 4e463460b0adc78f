// Preloaded with `node --import` into a child formhub: records every module the process
// loads (ESM through a loader hook, CommonJS from require.cache) and writes the list to
// $FORMHUB_TEST_MODULES_OUT as JSON when the process exits.
import process from 'node:process';
import { createRequire, register } from 'node:module';
import { writeFileSync } from 'node:fs';
import { MessageChannel } from 'node:worker_threads';

const out = process.env.FORMHUB_TEST_MODULES_OUT;
const seen = new Set();
const { port1, port2 } = new MessageChannel();
port1.on('message', (url) => seen.add(url));
port1.unref();
register('./record-modules-hook.mjs', import.meta.url, {
  data: { port: port2 },
  transferList: [port2],
});
process.on('exit', () => {
  const cjs = Object.keys(createRequire(import.meta.url).cache);
  writeFileSync(out, JSON.stringify({ esm: [...seen], cjs }));
});
