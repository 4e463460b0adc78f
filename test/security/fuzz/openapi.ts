import fc from 'fast-check';

/** The parts of an OpenAPI 3.1 document the fuzzer reads. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

interface OpenApiOperation {
  parameters?: { name: string; in: 'path' | 'query' | 'header'; schema?: JsonSchema }[];
  requestBody?: { content: Record<string, { schema?: JsonSchema }> };
  security?: unknown[];
}

/** JSON Schema as TypeBox writes it; only the keywords the generator understands are typed. */
export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  format?: string;
}

/** The kinds of object a path id can name; each is seeded in both workspaces. */
export type ResourceKind =
  | 'form'
  | 'response'
  | 'export'
  | 'report'
  | 'webhook'
  | 'integration'
  | 'delivery'
  | 'zapierHook'
  | 'apiKey'
  | 'notificationChannel'
  | 'erasure';

/** One path x method of the document. */
export interface Operation {
  /** `GET /api/v2/forms/{id}`: the name used in reports. */
  name: string;
  method: string;
  path: string;
  /** What `{id}` names, when the path has one. */
  idKind: ResourceKind | undefined;
  query: { name: string; schema: JsonSchema }[];
  headers: { name: string; schema: JsonSchema }[];
  /** The JSON request schema, when the document declares a body. */
  body: JsonSchema | undefined;
  /** No `security` requirement: anyone may call it (published forms only). */
  public: boolean;
  /** Every method the document lists on this path (to pick one it does not). */
  siblings: string[];
}

const KIND_BY_SEGMENT: Record<string, ResourceKind> = {
  forms: 'form',
  responses: 'response',
  exports: 'export',
  'scheduled-reports': 'report',
  webhooks: 'webhook',
  integrations: 'integration',
  deliveries: 'delivery',
  hooks: 'zapierHook',
  'api-keys': 'apiKey',
  'notification-channels': 'notificationChannel',
  erasures: 'erasure',
};

/** Every operation of the document, in its order; throws on a path id of an unknown kind. */
export function listOperations(doc: OpenApiDocument): Operation[] {
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    const segments = path.split('/');
    const at = segments.indexOf('{id}');
    const idKind = at < 0 ? undefined : KIND_BY_SEGMENT[segments[at - 1] ?? ''];
    if (at >= 0 && !idKind) throw new Error(`fuzz: no seeded object kind for the id of ${path}`);
    for (const [method, op] of Object.entries(methods)) {
      const params = op.parameters ?? [];
      operations.push({
        name: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        idKind,
        query: params
          .filter((p) => p.in === 'query')
          .map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        headers: params
          .filter((p) => p.in === 'header')
          .map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        body: op.requestBody?.content['application/json']?.schema,
        public: op.security === undefined,
        siblings: Object.keys(methods).map((m) => m.toUpperCase()),
      });
    }
  }
  return operations;
}

/**
 * Values that satisfy `schema` (a useful subset of JSON Schema: types, enums, anyOf,
 * objects with required and some optional properties, arrays, string bounds and patterns,
 * number bounds, `$ref` into the components). An empty schema yields small JSON values.
 */
export function valueOf(
  schema: JsonSchema,
  doc: OpenApiDocument,
  depth = 0,
): fc.Arbitrary<unknown> {
  if (schema.$ref) {
    const name = schema.$ref.split('/').pop() ?? '';
    return valueOf(doc.components?.schemas?.[name] ?? {}, doc, depth);
  }
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const choices = schema.anyOf ?? schema.oneOf;
  if (choices) return fc.oneof(...choices.map((s) => valueOf(s, doc, depth + 1)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      return stringOf(schema);
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000 });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(valueOf(schema.items ?? {}, doc, depth + 1), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 3, Math.max(schema.minItems ?? 0, 3)),
      });
    case 'object':
      return objectOf(schema, doc, depth);
    default:
      return depth > 2 ? fc.constant(null) : fc.jsonValue({ maxDepth: 2 });
  }
}

function stringOf(schema: JsonSchema): fc.Arbitrary<string> {
  if (schema.format === 'email') return fc.constantFrom('a@example.com', 'fuzz.user@example.org');
  if (schema.format === 'date-time')
    return fc.constantFrom('2026-01-01T00:00:00Z', '2025-06-30T12:34:56.789Z');
  if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern));
  const minLength = schema.minLength ?? 0;
  return fc.string({
    minLength,
    maxLength: Math.max(minLength, Math.min(schema.maxLength ?? 20, 20)),
  });
}

function objectOf(schema: JsonSchema, doc: OpenApiDocument, depth: number): fc.Arbitrary<unknown> {
  const properties = schema.properties ?? {};
  const names = Object.keys(properties);
  if (names.length === 0)
    return depth > 2
      ? fc.constant({})
      : fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 });
  const record = Object.fromEntries(
    names.map((n) => [n, valueOf(properties[n] ?? {}, doc, depth + 1)]),
  );
  return fc.record(record, { requiredKeys: (schema.required ?? []).filter((n) => n in record) });
}
