import { ConfigError, loadConfig, processEnv, type Config } from '../config/index.ts';

/** A startup problem: printed as one line, then the process exits non-zero. */
export class StartupError extends Error {}

/**
 * Reads the configuration, or throws StartupError with one line per bad variable. Loads
 * nothing but the config module, so main.ts can read it before the hub's code (and pg,
 * ioredis, undici, fastify) is imported: tracing must start first.
 */
export function configure(): Config {
  try {
    return loadConfig(processEnv());
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new StartupError(error.problems.map((p) => `invalid configuration: ${p}`).join('\n'));
    }
    throw error;
  }
}
