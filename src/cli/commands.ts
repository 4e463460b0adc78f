import cluster from 'node:cluster';
import type { FastifyInstance } from 'fastify';
import { buildApp, createHub, type Hub } from '../hub/index.ts';
import { startWorker, type RunningWorker } from '../worker/index.ts';
import { configure, connect, StartupError, type Runtime } from './startup.ts';
import { migrate } from '../db/index.ts';
import { isUuid, SCOPES } from '../common/index.ts';
import type { Config } from '../config/index.ts';
import { stopTracing } from '../tracing/index.ts';

/** `formhub serve|api|worker`: runs until SIGTERM or SIGINT, then shuts down gracefully. */
export async function run(
  mode: 'serve' | 'api' | 'worker',
  config: Config = configure(),
): Promise<void> {
  // A worker of `formhub api --workers N` uses the embedded database its primary holds.
  const embedded = cluster.isWorker ? 'share' : 'own';
  const runtime = await connect(config, {
    migrate: true,
    embedded,
    command: `formhub ${mode}`,
  });
  const { logger } = runtime;
  let app: FastifyInstance | undefined;
  let worker: RunningWorker | undefined;
  const hub = await createHub(runtime);
  // Plugins are loaded: integrations whose connector changed major version are checked now,
  // before anything is delivered (docs/plugins.md, "Versions").
  const versions = await hub.integrations.reconcileConnectorVersions(logger);
  if (versions.recorded + versions.upgraded + versions.needsUpdate.length > 0) {
    logger.info(
      {
        recorded: versions.recorded,
        upgraded: versions.upgraded,
        needs_update: versions.needsUpdate.length,
      },
      'connector versions checked',
    );
  }
  // Signals are handled from here on: one that arrives during start-up waits for it to
  // finish, then shuts everything down, so nothing is left half-started.
  let startup: Promise<void> = Promise.resolve();
  onShutdown(async () => {
    // A failed start-up is reported by `await startup` below; here it only has to be over.
    await startup.catch(() => undefined);
    await shutdown();
  });
  startup = (async () => {
    if (mode !== 'api') worker = await startWorker(hub);
    if (mode !== 'worker') {
      const api = await buildApp(hub);
      app = api;
      await api.listen({ port: config.port, host: config.host });
    }
  })();
  await startup;
  logger.info(
    { mode, port: app ? config.port : undefined, database: runtime.db.kind },
    'formhub is running',
  );

  async function shutdown(): Promise<void> {
    const started = Date.now();
    const step = async (name: string, work: () => Promise<unknown>) => {
      await work();
      logger.info({ step: name, ms: Date.now() - started }, 'shutdown step done');
    };
    logger.info('shutting down: no new requests, finishing in-flight work');
    await step('http', async () => app?.close());
    await step('worker', async () => worker?.close());
    await step('services', () => hub.close());
    await step('connections', () => closeRuntime(runtime));
    // Last, so the spans of the steps above are exported too; a collector that cannot be
    // reached loses those spans only, never the shutdown.
    await step('tracing', () =>
      stopTracing().catch((error: Error) => {
        logger.warn({ err: error.message }, 'flushing traces at shutdown failed; spans lost');
      }),
    );
  }
}

/** `formhub migrate`: applies pending migrations and exits. */
export async function runMigrate(): Promise<void> {
  const runtime = await connect(configure(), {
    migrate: false,
    embedded: 'share',
    command: 'formhub migrate',
  });
  const applied = await migrate(runtime.db);
  console.log(
    applied.length > 0 ? `applied migrations: ${applied.join(', ')}` : 'the database is up to date',
  );
  await closeRuntime(runtime);
}

/** A comma-separated option as a list; undefined when the option was not given. */
function listOption(value: string | undefined): string[] | undefined {
  return value === undefined
    ? undefined
    : value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
}

/**
 * `formhub keys create`: a key for an existing workspace (`--workspace <id>`, limited by
 * `--scopes` and `--forms` if given) or a new workspace with its first key
 * (`--new-workspace <name>`, every scope). Prints the key once.
 */
export async function runKeysCreate(options: {
  workspace?: string;
  newWorkspace?: string;
  name: string;
  scopes?: string;
  forms?: string;
}) {
  if (!options.workspace === !options.newWorkspace) {
    throw new StartupError(
      'keys create needs exactly one of --workspace <id> or --new-workspace <name>',
    );
  }
  const scopes = listOption(options.scopes);
  const formIds = listOption(options.forms);
  if (options.newWorkspace && (scopes || formIds))
    throw new StartupError('--scopes and --forms apply to keys create --workspace only');
  const unknown = scopes?.filter((s) => !(SCOPES as readonly string[]).includes(s)) ?? [];
  if (unknown.length > 0 || scopes?.length === 0)
    throw new StartupError(
      `--scopes takes a comma-separated list of ${SCOPES.join(', ')} (got "${options.scopes}")`,
    );
  if (formIds?.length === 0)
    throw new StartupError('--forms takes a comma-separated list of form ids');
  const runtime = await connect(configure(), {
    migrate: true,
    embedded: 'share',
    command: 'formhub keys create',
  });
  let hub: Hub | undefined;
  try {
    hub = await createHub(runtime);
    const service = hub.workspaces;
    if (options.newWorkspace) {
      const created = await service.createWorkspace(options.newWorkspace);
      console.log(
        JSON.stringify({ workspace_id: created.id, name: created.name, key: created.api_key }),
      );
    } else {
      const id = options.workspace!;
      const exists =
        isUuid(id) &&
        (await runtime.db.query('SELECT 1 FROM workspaces WHERE id = $1', [id])).rows.length;
      if (!exists) throw new StartupError(`no workspace ${id}`);
      const key = await service
        .createKey(id, options.name, { scopes, form_ids: formIds })
        .catch((error: unknown) => {
          // A form this workspace does not have: the API's 422, as one line.
          const details = (error as { details?: { message: string }[] }).details;
          if (!details?.length) throw error;
          throw new StartupError(`--forms: ${details.map((d) => d.message).join('; ')}`);
        });
      console.log(
        JSON.stringify({
          workspace_id: id,
          id: key.id,
          name: key.name,
          scopes: key.scopes ?? SCOPES, // as the API shows it: all of them
          form_ids: key.form_ids,
          key: key.key,
        }),
      );
    }
  } finally {
    await hub?.close();
    await closeRuntime(runtime);
  }
}

async function closeRuntime(runtime: Runtime): Promise<void> {
  await runtime.db.close().catch((error: Error) => {
    runtime.logger.warn({ err: error.message }, 'closing the database failed');
  });
  runtime.redis.disconnect();
}

function onShutdown(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => {
      console.error(`formhub: shutdown after ${signal} took over 30 s; exiting`);
      process.exit(1);
    }, 30_000);
    force.unref();
    stop().then(
      () => process.exit(0),
      (error) => {
        console.error(
          `formhub: error during shutdown after ${signal}: ${(error as Error).message}`,
        );
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
}
