/**
 * A connector version's compatibility line, as npm's caret ranges read it: `2.4.1` -> `2`;
 * below 1.0.0 every minor is its own line (`0.3.1` -> `0.3`). A version that is not
 * `major.minor...` is its own line.
 */
export function majorOf(version: string): string {
  const match = /^v?(\d+)\.(\d+)/.exec(version.trim());
  if (!match) return version;
  const major = Number(match[1]);
  return major > 0 ? String(major) : `0.${Number(match[2])}`;
}

/**
 * How a connector's version moved since an integration recorded one: `same`, `compatible`
 * (the same major line: the config is still valid by the connector's promise) or `major`
 * (the config must be migrated, if the connector can, and validated again).
 */
export function versionChange(recorded: string, current: string): 'same' | 'compatible' | 'major' {
  if (recorded === current) return 'same';
  return majorOf(recorded) === majorOf(current) ? 'compatible' : 'major';
}
