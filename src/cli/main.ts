import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { parseWorkerCount } from './cluster-backoff.ts';
import { configure, StartupError } from './configure.ts';
import { startTracing } from '../tracing/index.ts';

const USAGE = `usage: formhub <command>

  serve                 API and worker in one process (what npm start runs)
  api [--workers N|auto]
                        the HTTP API only; --workers runs N processes on one
                        port (auto: one per core; docs/operations.md)
  worker                the background worker only
  migrate               apply database migrations and exit
  keys create --new-workspace <name>
  keys create --workspace <id> [--name <name>] [--scopes s,...] [--forms id,...]
                        create an API key (printed once, as JSON); --scopes
                        and --forms limit it (docs/api.md, scoped keys)
  connector new <name> [--dir <folder>]
                        scaffold a stand-alone connector package, with a
                        passing node --test test, in <folder>/<name>/
                        (default PLUGINS_DIR; sdk/README.md)

Configuration comes from the environment; see README.md.`;

/** The command line's options and words; a malformed one is a one-line StartupError, not a stack. */
function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        workspace: { type: 'string' },
        'new-workspace': { type: 'string' },
        name: { type: 'string', default: 'cli' },
        scopes: { type: 'string' },
        forms: { type: 'string' },
        workers: { type: 'string' },
        dir: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    if (!String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')) throw error;
    throw new StartupError(`${(error as Error).message} (formhub --help lists the commands)`);
  }
}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parse(argv);
  const [command, sub] = positionals;
  // The server commands load the whole hub; `--help` and `connector new` need none of it.
  const commands = () => import('./commands.ts');
  if (values.help || !command) return void console.log(USAGE);
  if (values.workers !== undefined && command !== 'api')
    throw new StartupError('--workers applies to formhub api only');
  if (command === 'api' && cluster.isPrimary) {
    const workers = parseWorkerCount(values.workers, availableParallelism());
    if (workers === undefined)
      throw new StartupError(
        `--workers must be a number from 1 to 64 or auto (got "${values.workers}")`,
      );
    if (workers > 1) return (await import('./cluster.ts')).runCluster(workers);
  }
  if (command === 'serve' || command === 'api' || command === 'worker') {
    const config = configure();
    // Before the hub's code is imported, so that pg, ioredis and http are patched as they
    // load. Unset, nothing of OpenTelemetry is loaded (src/tracing/index.ts).
    if (config.tracing.endpoint)
      await startTracing({ mode: command, protocol: config.tracing.protocol });
    return (await commands()).run(command, config);
  }
  if (command === 'migrate') return (await commands()).runMigrate();
  if (command === 'keys' && sub === 'create') {
    return (await commands()).runKeysCreate({
      workspace: values.workspace,
      newWorkspace: values['new-workspace'],
      name: values.name,
      scopes: values.scopes,
      forms: values.forms,
    });
  }
  if (command === 'connector' && sub === 'new' && positionals.length <= 3)
    return (await import('./scaffold.ts')).runConnectorNew(positionals[2], values.dir);
  throw new StartupError(`unknown command "${positionals.join(' ')}"\n${USAGE}`);
}

// A stray rejection (say, from a plugin's background work) is logged, never fatal.
process.on('unhandledRejection', (reason) => {
  console.error(`formhub: unhandled rejection: ${(reason as Error)?.stack ?? String(reason)}`);
});

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof StartupError) {
    for (const line of error.message.split('\n')) console.error(`formhub: ${line}`);
  } else {
    console.error(`formhub: ${(error as Error).stack ?? String(error)}`);
  }
  process.exit(1);
});
