import { parseArgs } from 'node:util';
import { run, runKeysCreate, runMigrate } from './commands.ts';
import { StartupError } from './startup.ts';

const USAGE = `usage: formhub <command>

  serve                 API and worker in one process (what npm start runs)
  api                   the HTTP API only
  worker                the background worker only
  migrate               apply database migrations and exit
  keys create --new-workspace <name>
  keys create --workspace <id> [--name <name>]
                        create an API key (printed once, as JSON)

Configuration comes from the environment; see README.md.`;

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      workspace: { type: 'string' },
      'new-workspace': { type: 'string' },
      name: { type: 'string', default: 'cli' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, sub] = positionals;
  if (values.help || !command) return void console.log(USAGE);
  if (command === 'serve' || command === 'api' || command === 'worker') return run(command);
  if (command === 'migrate') return runMigrate();
  if (command === 'keys' && sub === 'create') {
    return runKeysCreate({ workspace: values.workspace, newWorkspace: values['new-workspace'], name: values.name });
  }
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
