export { loadConfig, ConfigError, type Config } from './config.ts';
export { parseDuration, parseDurationList } from './durations.ts';

/** The process environment; the one place outside tests that reads it. */
export function processEnv(): Record<string, string | undefined> {
  return process.env;
}
export { loadEncryptionKey } from './encryption-key.ts';
