import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compileFilter,
  compilePredicate,
  type Filter,
  type PredicateResponse,
} from '../../src/analytics/dsl/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import { migrate, openDatabase, type Database } from '../../src/db/index.ts';
import type { Field } from '../../src/forms/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

// Differential test: the in-memory predicate a condition compiles to must select exactly the
// stored responses that the DSL's SQL for the same filter selects (the SQL is the oracle).

const SEED = 20_261_207;
const TAGS = ['a', 'b', 'c'];
// Byte order (COLLATE "C") differs from UTF-16 order past U+FFFF: '😀' vs '\uFFFD'.
const WORDS = ['IT', 'HR', 'it', 'Sales', '', 'zoë', '😀', '\uFFFD', 'a%b_c', 'Z', 'HR dept'];
const FIELDS: Field[] = [
  { key: 'department', type: 'text' },
  { key: 'hours', type: 'number' },
  { key: 'ok', type: 'boolean' },
  { key: 'day', type: 'date' },
  { key: 'meeting', type: 'datetime' },
  { key: 'tags', type: 'multiselect', options: TAGS },
];
const CTX = { fields: FIELDS, calculatedKeys: ['calc'] };
type Kind = 'text' | 'number' | 'boolean' | 'day' | 'time' | 'tags' | 'any';
const KIND: Record<string, Kind> = {
  'data.department': 'text',
  'data.hours': 'number',
  'data.ok': 'boolean',
  'data.day': 'day',
  'data.meeting': 'time',
  'data.tags': 'tags',
  'data.calc': 'any',
  'metadata.source': 'any',
  'metadata.tags': 'any',
  completed: 'boolean',
  submitted_at: 'time',
  updated_at: 'time',
};

const DAYS = ['2026-02-01', '2026-02-02', '2026-03-01', '0001-01-01', '9999-12-31'];
const INSTANTS = [
  '2026-02-01T00:00:00Z',
  '2026-02-01T00:00:00.001Z',
  '2026-02-01T01:30:00+01:30',
  '2026-01-31T23:59:59.999Z',
  '2026-02-01T05:30:00+05:30',
  '2026-03-01T12:00:00Z',
];
const word = fc.constantFrom(...WORDS);
const num = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(0.5, 2.5, -1.25, 40, 1e20));
const day = fc.constantFrom(...DAYS);
const instant = fc.constantFrom(...INSTANTS);
const VALUE: Record<string, fc.Arbitrary<unknown>> = {
  department: word,
  hours: num,
  ok: fc.boolean(),
  day: fc.oneof(day, fc.constant('someday')),
  meeting: fc.oneof(instant, fc.constant('2026-02-01T00:00:00')), // no offset: not a date-time
  tags: fc.subarray(TAGS).chain((xs) => fc.shuffledSubarray(xs, { minLength: xs.length })),
  calc: fc.oneof(word, num, fc.boolean()),
};
/** A stored value: usually of the field's type, sometimes null or of another type. */
const stored = (key: string): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 8, arbitrary: VALUE[key] as fc.Arbitrary<unknown> },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.oneof(word, num, fc.boolean(), fc.constant(['a'])) },
  );
const dataArb = fc.record(
  Object.fromEntries(Object.keys(VALUE).map((k) => [k, stored(k)])) as Record<
    string,
    fc.Arbitrary<unknown>
  >,
  { requiredKeys: [] },
);
// Metadata is free-form: any JSON, compared as the type of the value given (like `calc`).
const metadataArb = fc.record(
  {
    source: fc.oneof(word, num, fc.boolean(), fc.constant(null), fc.constant({ a: 1 })),
    tags: fc.oneof(fc.subarray(WORDS), word),
  },
  { requiredKeys: [] },
);
const responseArb = fc.record({
  data: dataArb,
  metadata: metadataArb,
  completed: fc.boolean(),
  submitted_at: instant.map((s) => new Date(s).toISOString()),
  updated_at: instant.map((s) => new Date(s).toISOString()),
});

/** A comparison value for a path of `kind`, of the type `compileFilter` accepts there. */
function scalar(kind: Kind): fc.Arbitrary<unknown> {
  switch (kind) {
    case 'text':
    case 'tags':
      return kind === 'tags' ? fc.constantFrom(...TAGS) : word;
    case 'number':
      return num;
    case 'boolean':
      return fc.boolean();
    case 'day':
    case 'time':
      return fc.oneof(day, instant, fc.constant('2026-02-01T00:00:00'));
    default:
      return fc.oneof(word, num, fc.boolean());
  }
}

function operatorsFor(kind: Kind): fc.Arbitrary<Record<string, unknown>> {
  const s = scalar(kind);
  const list = fc.array(fc.oneof({ weight: 5, arbitrary: s }, fc.constant(null)), {
    maxLength: 4,
  });
  const ops: Record<string, fc.Arbitrary<unknown>> = {
    $eq: fc.oneof({ weight: 5, arbitrary: s }, fc.constant(null)),
    $ne: fc.oneof({ weight: 5, arbitrary: s }, fc.constant(null)),
    $in: list,
    $nin: list,
    $exists: fc.boolean(),
  };
  if (kind === 'tags') ops.$eq = fc.oneof(s, fc.subarray(TAGS), fc.constant(null));
  if (kind !== 'boolean' && kind !== 'tags' && kind !== 'any')
    for (const op of ['$gt', '$gte', '$lt', '$lte']) ops[op] = s;
  if (kind === 'any') for (const op of ['$gt', '$lte']) ops[op] = fc.oneof(word, num);
  if (kind === 'text' || kind === 'tags' || kind === 'any')
    ops.$contains = kind === 'tags' ? s : fc.constantFrom('', 'H', 'R d', '😀', 'ë');
  const one = fc
    .constantFrom(...Object.keys(ops))
    .chain((op) => (ops[op] as fc.Arbitrary<unknown>).map((v) => ({ [op]: v })));
  return fc.oneof(
    { weight: 4, arbitrary: one },
    one.chain((a) => one.map((b) => ({ ...a, ...b }))),
    one.map((a) => ({ $not: a })),
  );
}

const pathArb = fc.constantFrom(...Object.keys(KIND));
const leafArb: fc.Arbitrary<Filter> = pathArb.chain((path) => {
  const kind = KIND[path] as Kind;
  const bare = kind === 'tags' ? fc.constantFrom(...TAGS) : scalar(kind);
  return fc.oneof(bare, operatorsFor(kind)).map((v) => ({ [path]: v }));
});
const { filter: filterArb } = fc.letrec<{ filter: Filter }>((tie) => ({
  filter: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 5, arbitrary: leafArb },
    fc.array(tie('filter'), { minLength: 1, maxLength: 3 }).map((xs) => ({ $and: xs })),
    fc.array(tie('filter'), { minLength: 1, maxLength: 3 }).map((xs) => ({ $or: xs })),
    tie('filter').map((f) => ({ $not: f })),
    fc.tuple(leafArb, leafArb).map(([a, b]) => ({ ...a, ...b })),
  ),
}));

/** Compiles where `compileFilter` does; a filter it refuses is not a test case. */
function compiles(filter: Filter): boolean {
  try {
    compileFilter(filter, CTX, []);
    return true;
  } catch {
    return false;
  }
}

describe('condition predicates against the DSL SQL', () => {
  let database: TestDatabase;
  let db: Database;
  const formId = randomUUID();
  const responses = fc
    .sample(responseArb, { seed: SEED, numRuns: 400 })
    .map((r) => ({ ...r, id: randomUUID() }));

  beforeAll(async () => {
    database = await createTestDatabase();
    // A session time zone far from UTC: neither side may depend on it.
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    await admin.query(
      `ALTER DATABASE ${new URL(database.url).pathname.slice(1)} SET timezone TO 'Pacific/Chatham'`,
    );
    await admin.end();
    const config = loadConfig({ DATABASE_URL: database.url, LOG_LEVEL: 'silent' });
    db = await openDatabase(config);
    await migrate(db);
    const workspaceId = randomUUID();
    await db.query(`INSERT INTO workspaces (id, name) VALUES ($1, 'cond')`, [workspaceId]);
    await db.query(
      `INSERT INTO forms (id, workspace_id, title, status, fields, calculated_fields) VALUES ($1, $2, 'cond', 'published', $3, '[]')`,
      [formId, workspaceId, JSON.stringify(FIELDS)],
    );
    for (const r of responses) {
      await db.query(
        `INSERT INTO responses (id, workspace_id, form_id, form_version, data, completed, submitted_at, updated_at, metadata) VALUES ($1, $2, $3, 1, $4, $5, $6, $7, $8)`,
        [
          r.id,
          workspaceId,
          formId,
          JSON.stringify(r.data),
          r.completed,
          r.submitted_at,
          r.updated_at,
          JSON.stringify(r.metadata),
        ],
      );
    }
  });

  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  it('selects what the SQL selects, for 300 random conditions', async () => {
    let discriminating = 0;
    await fc.assert(
      fc.asyncProperty(filterArb.filter(compiles), async (filter) => {
        const params: unknown[] = [formId];
        const where = compileFilter(filter, CTX, params);
        const { rows } = await db.query<{ id: string }>(
          `SELECT r.id FROM responses r WHERE r.form_id = $1 AND ${where}`,
          params,
        );
        const bySql = new Set(rows.map((row) => row.id));
        const predicate = compilePredicate(filter, CTX, 'condition');
        for (const r of responses) {
          const response: PredicateResponse = r;
          expect(predicate(response), `${JSON.stringify(filter)} on ${JSON.stringify(r)}`).toBe(
            bySql.has(r.id),
          );
        }
        if (bySql.size > 0 && bySql.size < responses.length) discriminating++;
      }),
      {
        seed: SEED,
        numRuns: 300,
        // Edge cases run first: byte order past U+FFFF, instants across offsets, 5 = 5.0.
        examples: [
          [{ 'data.department': { $gt: '\uFFFD' } }],
          [{ 'data.calc': { $lte: '😀' } }],
          [{ submitted_at: { $gte: '2026-02-01T01:30:00+01:30' } }],
          [{ 'data.meeting': { $in: ['2026-02-01', null] } }],
          [{ 'data.calc': { $in: [40, 'IT', true, null] } }],
          [{ 'metadata.tags': { $contains: 'IT' }, 'metadata.source': { $ne: 'HR' } }],
          [{ 'data.hours': { $gte: 40 }, 'data.tags': { $in: ['a'] } }],
        ],
      },
    );
    expect(discriminating).toBeGreaterThan(100); // the conditions are not all-or-nothing
  });

  it('refuses what compileFilter refuses, naming the part under `condition`', () => {
    expect(() => compilePredicate({ 'data.nope': 1 }, CTX, 'condition')).toThrow(
      /condition\.data\.nope/,
    );
    expect(() => compilePredicate({ 'data.hours': { $near: 1 } }, CTX, 'condition')).toThrow(
      /condition\.data\.hours\.\$near/,
    );
    expect(() => compilePredicate({ 'data.hours': { $gt: 'x' } }, CTX, 'condition')).toThrow(
      /condition\.data\.hours\.\$gt/,
    );
  });
});
