import fc from 'fast-check';
import { valueOf, type OpenApiDocument, type Operation } from './openapi.ts';
import {
  AUTHORIZATION_VALUES,
  CONTENT_TYPES,
  FIELD_MUTATIONS,
  HEADER_VALUES,
  OTHER_HEADERS,
  PATH_CLASSES,
  QUERY_CLASSES,
  RAW_BODIES,
  type PathValue,
} from './values.ts';
import { FUZZ_FIELDS, validData, type Auth } from './world.ts';

/** Whose real object the request names (path id, or `form_id` where there is no path id). */
export type Target = 'A' | 'A-upper' | 'B' | 'random';

/** The one thing a case breaks; everything else about the request is valid. */
export type Focus =
  | { kind: 'baseline' }
  | { kind: 'path'; cls: string; value: PathValue }
  | { kind: 'query'; param: string; cls: string; value: PathValue }
  | { kind: 'body-field'; at: number; cls: string; value: unknown }
  | { kind: 'body-raw'; cls: string }
  | { kind: 'body-random'; value: unknown }
  | { kind: 'content-type'; value: string | null }
  | { kind: 'header'; name: string; cls: string; value: string }
  | { kind: 'method'; method: string };

/** A request as a small, printable description (fast-check prints it on failure). */
export interface FuzzCase {
  auth: Auth;
  target: Target;
  /** A UUID that names nothing, for `target: 'random'`. */
  unknownId: string;
  /** Valid values of some of the declared query parameters. */
  query: Record<string, string>;
  /** Valid values of some of the declared header parameters. */
  headers: Record<string, string>;
  /** A valid-shaped body (placeholders `@form`, `@url`), when the operation takes one. */
  body: unknown;
  /** Where `body` came from: a hand-written valid example, or the schema (valid shape, maybe refused by the handler). */
  bodyFrom: 'example' | 'schema' | 'none';
  focus: Focus;
}

/**
 * Valid bodies for the operations whose schema alone cannot say what the handler accepts
 * (answers must fit the form's fields, connectors want a config). Mutations start from
 * these, so they reach past the schema into the handlers.
 */
const BASE_BODIES: Record<string, unknown> = {
  'POST /api/v2/workspaces': { name: 'fuzz workspace' },
  'POST /api/v2/api-keys': { name: 'fuzz key' },
  'POST /api/v2/notification-channels': {
    kind: 'webhook',
    target: '@url',
    events: ['delivery.dead'],
  },
  'POST /api/v2/forms': {
    title: 'Fuzz',
    status: 'published',
    fields: FUZZ_FIELDS.slice(0, 4),
    calculated_fields: [{ key: 'double', logic: { '*': [{ var: 'data.age' }, 2] } }],
  },
  'PATCH /api/v2/forms/{id}': { title: 'Fuzz renamed', description: 'd' },
  'POST /api/v2/forms/{id}/responses': {
    data: validData(),
    metadata: { source: 'fuzz', tags: ['a'] },
  },
  'PATCH /api/v2/responses/{id}': { data: { name: 'patched' }, metadata: { step: 2 } },
  'POST /api/v2/forms/{id}/responses/import': [
    { data: validData(), submitted_at: '2025-01-01T00:00:00Z' },
  ],
  'POST /api/v2/forms/{id}/exports': {
    format: 'csv',
    fields: ['name'],
    filter: { 'data.age': { $gte: 1 } },
    since: '2025-01-01',
  },
  'POST /api/v2/scheduled-reports': {
    form_id: '@form',
    timezone: 'UTC',
    recipients: ['a@example.com'],
    format: 'pdf',
    frequency: 'weekly',
  },
  'POST /api/v2/analytics/forms/{id}/query': {
    aggregate: 'count',
    group_by: 'data.color',
    filter: { 'data.age': { $gte: 18 } },
  },
  'POST /api/v2/forms/{id}/webhooks': { url: '@url', events: ['response.submitted'] },
  'PATCH /api/v2/webhooks/{id}': { active: true },
  'POST /api/v2/forms/{id}/integrations': { connector: 'webhook', config: { url: '@url' } },
  'PATCH /api/v2/integrations/{id}': { active: true },
  'POST /api/v2/webhooks/{id}/replay': { since: '2025-01-01T00:00:00Z' },
  'POST /api/v2/integrations/{id}/replay': { since: '2025-01-01T00:00:00Z', status: 'failed' },
  // A match no fuzz response meets (ages stop at 150): queued erasures leave the world as it is.
  'POST /api/v2/erasures': { form_id: '@form', match: { 'data.age': { $gt: 150 } } },
  'POST /api/v2/zapier/hooks': {
    target_url: '@url',
    event: 'response.submitted',
    form_id: '@form',
  },
};

/** Valid values of query parameters by name (the schema says only "string" for most). */
const QUERY_VALUES: Record<string, string[]> = {
  limit: ['1', '2', '50', '1000'],
  since: ['2025-01-01', '2025-01-01T00:00:00Z'],
  until: ['2030-01-01', '2030-01-01T00:00:00+02:00'],
  completed: ['true', 'false'],
  fields: ['name,age', 'email'],
  filter: ['{"data.age":{"$gte":18}}', '{"data.color":"red"}'],
  bom: ['true', 'false'],
  form_id: ['@form'],
  field: ['name', 'age', 'color'],
  value: ['Ada', '36', 'red'],
};

/** Extra query parameters to break on routes that declare none (they must be ignored or refused). */
const STRAY_PARAMS = ['limit', 'cursor', 'since', 'filter', 'zzz', '__proto__'];
const PROBE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];

/** The body an operation starts from: a hand-written valid one, else one its schema allows. */
function baseBody(
  op: Operation,
  doc: OpenApiDocument,
): fc.Arbitrary<{ body: unknown; bodyFrom: FuzzCase['bodyFrom'] }> {
  const known = BASE_BODIES[op.name];
  const example = fc.constant({ body: known, bodyFrom: 'example' as const });
  const fromSchema = op.body
    ? valueOf(op.body, doc).map((body) => ({ body, bodyFrom: 'schema' as const }))
    : undefined;
  if (known !== undefined)
    return fromSchema
      ? fc.oneof({ arbitrary: example, weight: 3 }, { arbitrary: fromSchema, weight: 1 })
      : example;
  return fromSchema ?? fc.constant({ body: undefined, bodyFrom: 'none' as const });
}

function pick<T>(table: Record<string, T[]>): fc.Arbitrary<{ cls: string; value: T }> {
  return fc
    .constantFrom(...Object.keys(table))
    .chain((cls) => fc.constantFrom(...(table[cls] ?? [])).map((value) => ({ cls, value })));
}

function focusOf(op: Operation): fc.Arbitrary<Focus> {
  const queryNames = op.query.length > 0 ? op.query.map((q) => q.name) : STRAY_PARAMS;
  const headerNames = [...op.headers.map((h) => h.name)];
  const unlisted = PROBE_METHODS.filter(
    (m) => !op.siblings.includes(m) && !(m === 'HEAD' && op.siblings.includes('GET')),
  );
  const choices: { arbitrary: fc.Arbitrary<Focus>; weight: number }[] = [
    { arbitrary: fc.constant({ kind: 'baseline' }), weight: 2 },
    {
      arbitrary: fc
        .tuple(fc.constantFrom(...queryNames), pick(QUERY_CLASSES))
        .map(([param, { cls, value }]) => ({ kind: 'query', param, cls, value })),
      weight: op.query.length > 0 ? 4 : 1,
    },
    {
      arbitrary: fc
        .constantFrom(...Object.keys(RAW_BODIES))
        .map((cls) => ({ kind: 'body-raw', cls })),
      weight: 2,
    },
    {
      arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => ({ kind: 'body-random', value })),
      weight: 1,
    },
    {
      arbitrary: fc
        .constantFrom(...CONTENT_TYPES)
        .map((value) => ({ kind: 'content-type', value })),
      weight: 1,
    },
    {
      arbitrary: fc.oneof(
        ...headerNames.map((name) =>
          pick(HEADER_VALUES).map(({ cls, value }) => ({
            kind: 'header' as const,
            name,
            cls,
            value,
          })),
        ),
        fc.constantFrom(...AUTHORIZATION_VALUES).map((value) => ({
          kind: 'header' as const,
          name: 'authorization',
          cls: value.replace(/k{20,}/, 'k…'),
          value,
        })),
        pick(OTHER_HEADERS).chain(({ cls }) =>
          fc
            .constantFrom(...(OTHER_HEADERS[cls] ?? []))
            .map((value) => ({ kind: 'header' as const, name: cls, cls: 'odd', value })),
        ),
      ),
      weight: 1,
    },
  ];
  if (op.idKind)
    choices.push({
      arbitrary: pick(PATH_CLASSES).map(({ cls, value }) => ({ kind: 'path', cls, value })),
      weight: 4,
    });
  if (op.body || BASE_BODIES[op.name] !== undefined) {
    const mutations = { ...FIELD_MUTATIONS, 'extra-property': [{ fuzz_extra: 1 }] };
    choices.push({
      arbitrary: fc
        .tuple(fc.nat(), pick(mutations))
        .map(([at, { cls, value }]) => ({ kind: 'body-field', at, cls, value })),
      weight: 6,
    });
  }
  if (unlisted.length > 0)
    choices.push({
      arbitrary: fc.constantFrom(...unlisted).map((method) => ({ kind: 'method', method })),
      weight: 1,
    });
  return fc.oneof(...choices);
}

function queryOf(op: Operation, doc: OpenApiDocument): fc.Arbitrary<Record<string, string>> {
  const record: Record<string, fc.Arbitrary<string>> = {};
  for (const q of op.query) {
    const known = QUERY_VALUES[q.name];
    if (known) record[q.name] = fc.constantFrom(...known);
    else if (q.name !== 'cursor') record[q.name] = valueOf(q.schema, doc).map(String);
  }
  return fc.record(record, { requiredKeys: [] }) as fc.Arbitrary<Record<string, string>>;
}

function headersOf(op: Operation): fc.Arbitrary<Record<string, string>> {
  const record: Record<string, fc.Arbitrary<string>> = {};
  for (const h of op.headers)
    record[h.name] =
      h.name === 'x-resume-token' ? fc.constant('@resume') : fc.stringMatching(/^[a-z0-9-]{8,40}$/);
  return fc.record(record, { requiredKeys: [] }) as fc.Arbitrary<Record<string, string>>;
}

/** Every case for one operation. */
export function casesOf(op: Operation, doc: OpenApiDocument): fc.Arbitrary<FuzzCase> {
  const parts = fc.record({
    auth: fc.oneof(
      { arbitrary: fc.constant<Auth>('A'), weight: 5 },
      { arbitrary: fc.constant<Auth>('B'), weight: 3 },
      { arbitrary: fc.constant<Auth>('none'), weight: 2 },
      { arbitrary: fc.constantFrom<Auth>('admin', 'bogus'), weight: 1 },
    ),
    target: fc.oneof(
      { arbitrary: fc.constant<Target>('A'), weight: 5 },
      { arbitrary: fc.constant<Target>('A-upper'), weight: 2 },
      { arbitrary: fc.constant<Target>('B'), weight: 1 },
      { arbitrary: fc.constant<Target>('random'), weight: 1 },
    ),
    unknownId: fc.uuid({ version: 4 }),
    query: queryOf(op, doc),
    headers: headersOf(op),
    base: baseBody(op, doc),
    focus: focusOf(op),
  });
  return parts.map(({ base, ...rest }) => ({ ...rest, ...base }));
}

/** The label failures are de-duplicated by: what the case broke, without its values. */
export function labelOf(focus: Focus, body: unknown, bodyFrom: FuzzCase['bodyFrom']): string {
  switch (focus.kind) {
    case 'baseline':
      return bodyFrom === 'schema' ? 'schema-body' : 'baseline';
    case 'path':
      return `path:${focus.cls}`;
    case 'query':
      return `query:${focus.param}:${focus.cls}`;
    case 'body-field': {
      const at = nodePaths(body)[focus.at % Math.max(1, nodePaths(body).length)] ?? [];
      return `body:${String(at[0] ?? '$')}:${focus.cls}`;
    }
    case 'body-raw':
      return `raw:${focus.cls}`;
    case 'body-random':
      return 'random-json';
    case 'content-type':
      return `content-type:${focus.value ?? 'none'}`;
    case 'header':
      return `header:${focus.name}:${focus.cls}`;
    case 'method':
      return `method:${focus.method}`;
  }
}

/** Paths to every node of a JSON value, the root first. */
export function nodePaths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...nodePaths(v, [...prefix, i])));
  else if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) out.push(...nodePaths(v, [...prefix, k]));
  return out;
}
