import type { JsonSchema, PluginMetadata } from './plugin.ts';

/** What `POST /forms/:id/integrations` accepts as `connector` (the hub's loader checks the same). */
export const CONNECTOR_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** `MAJOR.MINOR.PATCH`, with an optional pre-release and build part. */
const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Everything wrong with a plugin's metadata, as short sentences (empty when it is well
 * formed): the id pattern, a name, a semver version, an optional string description, and
 * the basic shape of `configSchema`. It does not compile the schema (the SDK carries no
 * JSON Schema engine); the hub's loader compiles it with Ajv (draft 2020-12) at start.
 *
 * @example metadataProblems({ id: 'Bad Id', name: '', version: '1', configSchema: {} });
 * // ['id "Bad Id" must match ...', 'name must be a non-empty string', ...]
 */
export function metadataProblems(metadata: Partial<PluginMetadata> | undefined): string[] {
  if (!isPlainObject(metadata)) return ['metadata must be an object'];
  const problems: string[] = [];
  const { id, name, version, description, configSchema } = metadata;
  if (typeof id !== 'string' || !CONNECTOR_ID.test(id)) {
    problems.push(`id ${JSON.stringify(id)} must match ${CONNECTOR_ID}`);
  }
  if (typeof name !== 'string' || name.trim() === '') {
    problems.push('name must be a non-empty string');
  }
  if (typeof version !== 'string' || !SEMVER.test(version)) {
    problems.push(`version ${JSON.stringify(version)} must be semver (e.g. 1.0.0)`);
  }
  if (description !== undefined && typeof description !== 'string') {
    problems.push('description must be a string when given');
  }
  return problems.concat(configSchemaProblems(configSchema));
}

/**
 * The basic shape a connector's config schema needs: an object schema (`type: "object"`)
 * with a `properties` object whose entries are schemas, `required` naming only declared
 * properties, and `writeOnly` (the mark of a secret) a boolean.
 *
 * @example configSchemaProblems({ type: 'object', properties: {}, required: ['url'] });
 * // ['configSchema.required names "url", which is not in properties']
 */
export function configSchemaProblems(schema: unknown): string[] {
  if (!isPlainObject(schema)) return ['configSchema must be a JSON Schema object'];
  const problems: string[] = [];
  if (schema.type !== 'object') problems.push('configSchema.type must be "object"');
  const properties = schema.properties;
  if (!isPlainObject(properties)) return [...problems, 'configSchema.properties must be an object'];
  for (const [key, property] of Object.entries(properties)) {
    if (typeof property === 'boolean') continue;
    if (!isPlainObject(property)) problems.push(`configSchema.properties.${key} must be a schema`);
    else if (property.writeOnly !== undefined && typeof property.writeOnly !== 'boolean') {
      problems.push(`configSchema.properties.${key}.writeOnly must be a boolean`);
    }
  }
  const required = schema.required ?? [];
  if (!Array.isArray(required) || required.some((key) => typeof key !== 'string')) {
    problems.push('configSchema.required must be an array of property names');
  } else {
    for (const key of required as string[]) {
      if (!(key in properties)) {
        problems.push(`configSchema.required names "${key}", which is not in properties`);
      }
    }
  }
  return problems;
}

/** A secret found in a config: where it sits (`token`, `auth.password`) and its value. */
export interface ConfigSecret {
  path: string;
  value: string;
}

/**
 * The string values of `config` at the properties its schema marks `writeOnly` (at any
 * depth of nested object properties): the secrets that must never show in an error.
 *
 * @example
 * writeOnlySecrets({ properties: { token: { type: 'string', writeOnly: true } } }, { token: 's3cret' });
 * // [{ path: 'token', value: 's3cret' }]
 */
export function writeOnlySecrets(schema: JsonSchema, config: unknown, prefix = ''): ConfigSecret[] {
  const properties = isPlainObject(schema.properties) ? schema.properties : {};
  if (!isPlainObject(config)) return [];
  const found: ConfigSecret[] = [];
  for (const [key, property] of Object.entries(properties)) {
    if (!isPlainObject(property)) continue;
    const value = config[key];
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (property.writeOnly === true && typeof value === 'string' && value !== '') {
      found.push({ path, value });
    } else if (isPlainObject(value)) found.push(...writeOnlySecrets(property, value, path));
  }
  return found;
}

/**
 * Whether a schema marks any property `writeOnly`, at any depth.
 *
 * @example hasWriteOnly({ properties: { token: { writeOnly: true } } }); // true
 */
export function hasWriteOnly(schema: JsonSchema): boolean {
  const properties = isPlainObject(schema.properties) ? schema.properties : {};
  return Object.values(properties).some(
    (property) =>
      isPlainObject(property) && (property.writeOnly === true || hasWriteOnly(property)),
  );
}
