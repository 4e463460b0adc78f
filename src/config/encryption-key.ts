import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.ts';

/**
 * The 32-byte key for secrets at rest: FORMHUB_ENCRYPTION_KEY when set, else a key kept in
 * `DATA_DIR/encryption.key`, generated (mode 0600) on first start. Development only:
 * production sets the variable so that every process shares one key.
 */
export function loadEncryptionKey(config: Config): Buffer {
  if (config.encryptionKey) return Buffer.from(config.encryptionKey, 'base64');
  const file = join(config.dataDir, 'encryption.key');
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true });
    // Written aside, then linked in: the file appears whole or not at all, and when two
    // processes start on a fresh DATA_DIR at once the second keeps the first one's key.
    const aside = `${file}.${process.pid}.tmp`;
    writeFileSync(aside, randomBytes(32).toString('base64'), { mode: 0o600 });
    try {
      linkSync(aside, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      rmSync(aside, { force: true });
    }
  }
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} does not hold 32 bytes in base64`);
  return key;
}
