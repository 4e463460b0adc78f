import { randomUUID } from 'node:crypto';
import { Query } from 'mingo';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AGGREGATES,
  compileFilter,
  compileQuery,
  shapeResult,
  withFormId,
  type Aggregate,
  type Filter,
  type GroupSpec,
  type QueryResult,
  type ResultRow,
} from '../../src/analytics/dsl/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import { migrate, openDatabase, type Database } from '../../src/db/index.ts';
import type { Field } from '../../src/forms/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

// Differential test: the SQL the DSL compiles to must select what MongoDB semantics (mingo)
// select, and aggregate to what plain JS computes, over the same ~2,000 random responses.

type Doc = {
  id: string;
  completed: boolean;
  submitted_at: Date;
  updated_at: Date;
  data: Record<string, unknown>;
};
interface Row extends Doc {
  deleted: boolean;
  json: string;
}

let seed = Number(process.env.DSL_SEED ?? 20_261_128);
const rand = (): number => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
const chance = (p: number): boolean => rand() < p;
const times = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

const DEPARTMENTS = ['IT', 'HR', 'Finance', 'Sales'];
const STATUSES = ['approved', 'rejected', 'pending'];
const TAGS = ['a', 'b', 'c', 'd'];
const NAMES = [
  'alice',
  'Alicia',
  'bob',
  'Bobby',
  'carol',
  '',
  "O'Brien",
  'a%b_c\\d',
  'zoë',
  'dave smith',
];
const FIELDS: Field[] = [
  { key: 'name', type: 'text' },
  { key: 'department', type: 'select', options: DEPARTMENTS },
  { key: 'status', type: 'radio', options: STATUSES },
  { key: 'age', type: 'integer' },
  { key: 'score', type: 'number' },
  { key: 'stars', type: 'rating', max: 5 },
  { key: 'subscribed', type: 'boolean' },
  { key: 'birthday', type: 'date' },
  { key: 'meeting', type: 'datetime' },
  { key: 'tags', type: 'multiselect', options: TAGS },
];
const CTX = { fields: FIELDS, calculatedKeys: ['double', 'label'] };
const DAY = 86_400_000;
const FROM = Date.parse('2026-01-26T00:00:00Z');
const BOUNDARIES = [
  '2026-02-01',
  '2026-03-01',
  '2026-04-01',
  '2026-02-02',
  '2026-02-09',
  '2026-03-02',
].map(Date.parse);
// Kinds as the generator sees them; `time` values are compared as instants.
const KIND: Record<string, 'number' | 'text' | 'boolean' | 'time' | 'tags' | 'any'> = {
  'data.name': 'text',
  'data.department': 'text',
  'data.status': 'text',
  'data.age': 'number',
  'data.score': 'number',
  'data.stars': 'number',
  'data.subscribed': 'boolean',
  'data.birthday': 'time',
  'data.meeting': 'time',
  'data.tags': 'tags',
  'data.double': 'any',
  'data.label': 'any',
  submitted_at: 'time',
  updated_at: 'time',
  completed: 'boolean',
};
const PATHS = Object.keys(KIND);
const COMPARE = ['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists'];
const OPS = {
  number: COMPARE,
  time: COMPARE,
  text: [...COMPARE, '$contains'],
  any: [...COMPARE, '$contains'],
  boolean: ['$eq', '$ne', '$in', '$nin', '$exists'],
  tags: ['$eq', '$ne', '$in', '$nin', '$exists', '$contains'],
};
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

const nearBoundary = (): number => pick(BOUNDARIES) + int(-3 * 3600, 3 * 3600) * 1000 + int(0, 999);
const someInstant = (): number =>
  chance(0.4) ? nearBoundary() : FROM + Math.floor(rand() * 68 * DAY);
/** An ISO string of `ms` in a random offset (the same instant), sometimes without seconds. */
function isoWithOffset(ms: number): string {
  const minutes = pick([0, 120, -330, 345]);
  const local = new Date(ms + minutes * 60_000).toISOString().slice(0, chance(0.5) ? 19 : 23);
  const abs = Math.abs(minutes);
  const hhmm = `${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return minutes === 0 && chance(0.5) ? `${local}Z` : `${local}${minutes < 0 ? '-' : '+'}${hhmm}`;
}
const GEN: Record<string, () => unknown> = {
  name: () => pick(NAMES),
  department: () => pick(DEPARTMENTS),
  status: () => pick(STATUSES),
  age: () => (chance(0.03) ? 'old' : int(0, 99)), // a stray type: the SQL must not fail on it
  score: () => (chance(0.03) ? true : int(-5000, 5000) / 100),
  stars: () => int(1, 5),
  subscribed: () => chance(0.5),
  birthday: () =>
    chance(0.03)
      ? 'someday'
      : new Date(Date.parse('1995-01-01') + int(0, 5000) * DAY).toISOString().slice(0, 10),
  meeting: () => isoWithOffset(someInstant()),
  tags: () => TAGS.filter(() => chance(0.4)).sort(() => rand() - 0.5),
  double: () => (chance(0.2) ? 'n/a' : int(-100, 100) / 4),
  label: () => (chance(0.2) ? int(0, 9) : pick(NAMES)),
};

function makeRow(): Row {
  const data: Record<string, unknown> = {};
  for (const key of Object.keys(GEN))
    if (chance(0.75)) data[key] = chance(0.05) ? null : GEN[key]!();
  let json = JSON.stringify(data);
  if (chance(0.2)) json = json.replace(/"(age|stars)":(-?\d+)([,}])/g, '"$1":$2.0$3'); // 5.0 must equal 5
  const submitted = someInstant();
  const updated = submitted + (chance(0.5) ? 0 : int(0, 3 * DAY));
  const dates = { submitted_at: new Date(submitted), updated_at: new Date(updated) };
  return { id: randomUUID(), completed: chance(0.7), deleted: chance(0.05), ...dates, data, json };
}

/** A response as mingo sees it: dates as Date objects. */
function toDoc(row: Row): Doc {
  const data = { ...row.data };
  if (typeof data.birthday === 'string' && DATE_RE.test(data.birthday))
    data.birthday = new Date(`${data.birthday}T00:00:00Z`);
  if (typeof data.meeting === 'string') data.meeting = new Date(data.meeting);
  return {
    id: row.id,
    completed: row.completed,
    submitted_at: row.submitted_at,
    updated_at: row.updated_at,
    data,
  };
}

const rows: Row[] = times(2000, makeRow);
const live = rows.filter((row) => !row.deleted);
const docs = live.map(toDoc);
const stored = (path: string, row: Row): unknown =>
  path.startsWith('data.')
    ? row.data[path.slice(5)]
    : (row as unknown as Record<string, unknown>)[path];

function scalar(path: string): unknown {
  const kind = KIND[path]!;
  const sample = stored(path, pick(rows));
  if (kind === 'time') {
    if (sample instanceof Date && chance(0.5)) return sample.toISOString();
    if (typeof sample === 'string' && sample !== 'someday' && chance(0.5)) return sample;
    return pick([
      (ms: number) => new Date(ms).toISOString().slice(0, 10),
      isoWithOffset,
      (ms: number) => new Date(ms).toISOString().slice(0, 19),
    ])(someInstant());
  }
  const ok = (v: unknown) =>
    kind === 'number'
      ? typeof v === 'number'
      : kind === 'boolean'
        ? typeof v === 'boolean'
        : kind === 'any'
          ? typeof v === 'number' || typeof v === 'string'
          : typeof v === 'string';
  if (kind === 'tags') return pick(TAGS);
  if (ok(sample) && chance(0.6)) return sample;
  for (;;) {
    const v = kind === 'boolean' ? chance(0.5) : GEN[path.slice(5)]!();
    if (ok(v)) return typeof v === 'number' && chance(0.3) ? v + pick([0.5, -1, 0.25]) : v;
  }
}

function operand(path: string, op: string): unknown {
  if (op === '$exists') return chance(0.5);
  if (op === '$in' || op === '$nin')
    return times(int(0, 4), () => (chance(0.15) ? null : scalar(path)));
  if (op === '$contains')
    return KIND[path] === 'tags' ? pick(TAGS) : pick(NAMES).slice(int(0, 2), int(2, 5));
  if ((op === '$eq' || op === '$ne') && chance(0.1)) return null;
  if (KIND[path] === 'tags' && op !== '$eq' && op !== '$ne') return pick(TAGS);
  if (KIND[path] === 'tags' && chance(0.4))
    return (stored(path, pick(rows)) as string[] | undefined) ?? ['a'];
  return scalar(path);
}

function randomFilter(depth = 0): Filter {
  const r = rand();
  if (depth < 3 && r < 0.1) return { $and: times(int(1, 3), () => randomFilter(depth + 1)) };
  if (depth < 3 && r < 0.2) return { $or: times(int(1, 3), () => randomFilter(depth + 1)) };
  if (depth < 3 && r < 0.27) return { $not: randomFilter(depth + 1) };
  const filter: Filter = {};
  for (const path of times(int(1, 2), () => pick(PATHS))) {
    if (chance(0.15)) {
      filter[path] = operand(path, '$eq');
      continue;
    }
    const ops: Record<string, unknown> = {};
    for (const op of times(int(1, 2), () => pick(OPS[KIND[path]!]))) ops[op] = operand(path, op);
    filter[path] = chance(0.1) ? { $not: ops } : ops;
  }
  return filter;
}

const isOps = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  Object.keys(v).every((k) => k.startsWith('$'));
const asInstant = (path: string, v: unknown): unknown =>
  KIND[path] !== 'time' || typeof v !== 'string'
    ? v
    : new Date(DATE_RE.test(v) ? `${v}T00:00:00Z` : /(Z|[+-]\d\d:\d\d)$/.test(v) ? v : `${v}Z`);

/** The same filter for mingo: instants as Dates, `$contains` as `$regex`/`$elemMatch`, `$not` as `$nor`. */
function toMingo(filter: Filter): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and' || key === '$or') out[key] = (value as Filter[]).map(toMingo);
    else if (key === '$not') out.$nor = [toMingo(value as Filter)];
    else out[key] = isOps(value) ? opsToMingo(key, value) : asInstant(key, value);
  }
  return out;
}
function opsToMingo(path: string, ops: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [op, v] of Object.entries(ops)) {
    if (op === '$not') out.$not = opsToMingo(path, v as Record<string, unknown>);
    else if (op === '$contains' && KIND[path] === 'tags') out.$elemMatch = { $eq: v };
    else if (op === '$contains')
      out.$regex = new RegExp((v as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    else if (op === '$in' || op === '$nin')
      out[op] = (v as unknown[]).map((x) => asInstant(path, x));
    else out[op] = asInstant(path, v);
  }
  return out;
}
const mingoIds = (filter: Filter): string[] =>
  new Query(toMingo(filter))
    .find<Doc>(docs)
    .all()
    .map((d) => d.id)
    .sort();

describe('analytics DSL against PostgreSQL and mingo', () => {
  let database: TestDatabase;
  let db: Database;
  const formId = randomUUID();

  beforeAll(async () => {
    database = await createTestDatabase();
    // A session time zone far from UTC: the compiled SQL must not depend on it.
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    await admin.query(
      `ALTER DATABASE ${new URL(database.url).pathname.slice(1)} SET timezone TO 'Pacific/Chatham'`,
    );
    await admin.end();
    const config = loadConfig({
      DATABASE_URL: database.url,
      DATABASE_POOL_MIN: '0',
      DATABASE_POOL_MAX: '4',
      LOG_LEVEL: 'silent',
    });
    db = await openDatabase(config);
    await migrate(db);
    const workspaceId = randomUUID();
    const otherForm = randomUUID();
    await db.query(`INSERT INTO workspaces (id, name) VALUES ($1, 'dsl')`, [workspaceId]);
    for (const id of [formId, otherForm]) {
      await db.query(
        `INSERT INTO forms (id, workspace_id, title, status, fields, calculated_fields) VALUES ($1, $2, 'dsl', 'published', $3, '[]')`,
        [id, workspaceId, JSON.stringify(FIELDS)],
      );
    }
    // The other form's responses must never show up.
    const all = [
      ...rows.map((row) => ({ row, form: formId })),
      ...times(50, () => ({ row: makeRow(), form: otherForm })),
    ];
    for (let i = 0; i < all.length; i += 500) {
      const batch = all.slice(i, i + 500);
      const values = batch
        .map((_, j) => `(${times(9, (k) => `$${j * 9 + k + 1}`).join(', ')})`)
        .join(', ');
      const params = batch.flatMap(({ row, form }) => [
        row.id,
        workspaceId,
        form,
        1,
        row.json,
        row.completed,
        row.submitted_at,
        row.updated_at,
        row.deleted,
      ]);
      await db.query(
        `INSERT INTO responses (id, workspace_id, form_id, form_version, data, completed, submitted_at, updated_at, deleted) VALUES ${values}`,
        params,
      );
    }
  });

  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  it('selects what mingo selects, for 300 random filters', async () => {
    let matched = 0;
    for (let i = 0; i < 300; i++) {
      const filter = randomFilter();
      const params: unknown[] = [formId];
      const where = compileFilter(filter, CTX, params);
      const sql = `SELECT r.id FROM responses r WHERE r.form_id = $1 AND NOT r.deleted AND ${where}`;
      const { rows: found } = await db.query<{ id: string }>(sql, params);
      const ids = found.map((row) => row.id).sort();
      expect(ids, JSON.stringify(filter)).toEqual(mingoIds(filter));
      if (ids.length > 0 && ids.length < live.length) matched++;
    }
    expect(matched).toBeGreaterThan(100); // the filters discriminate, they are not all-or-nothing
  });

  it('keys periods across week and month boundaries, in UTC', async () => {
    const countBy = async (group_by: GroupSpec): Promise<Record<string, number>> => {
      const compiled = compileQuery({ aggregate: 'count', group_by }, CTX);
      const found = await db.query<ResultRow>(compiled.sql, withFormId(compiled.params, formId));
      return shapeResult(found.rows, compiled.shape) as Record<string, number>;
    };
    const weeks = await countBy({ date_trunc: 'week', field: 'submitted_at' });
    expect(Object.keys(weeks).every((k) => new Date(`${k}T00:00:00Z`).getUTCDay() === 1)).toBe(
      true,
    );
    expect(Object.keys(weeks)).toEqual(
      expect.arrayContaining(['2026-01-26', '2026-02-23', '2026-03-30']),
    );
    const months = await countBy({ date_trunc: 'month', field: 'submitted_at' });
    expect(Object.keys(months)).toEqual(['2026-01', '2026-02', '2026-03', '2026-04']);
    const inFebruary = live.filter((r) =>
      r.submitted_at.toISOString().startsWith('2026-02'),
    ).length;
    expect(months['2026-02']).toBe(inFebruary);
    const hours = await countBy({ date_trunc: 'hour', field: 'updated_at' });
    expect(Object.keys(hours).every((k) => /^\d{4}-\d{2}-\d{2}T\d{2}:00:00Z$/.test(k))).toBe(true);
  });

  // One test per aggregate: every field it takes, under every grouping, half of them filtered.
  it.each(AGGREGATES)('%s aggregates and groups as plain JS does', async (aggregate) => {
    for (const query of aggregateQueries(aggregate)) {
      const compiled = compileQuery(query, CTX);
      const { rows: result } = await db.query<ResultRow>(
        compiled.sql,
        withFormId(compiled.params, formId),
      );
      const label = JSON.stringify(query);
      expectClose(shapeResult(result, compiled.shape), expectedResult(query), label);
    }
  });
});

// ---- the reference: each query recomputed in plain JS over the same rows ----

interface AggQuery {
  aggregate: Aggregate;
  field?: string;
  group_by?: GroupSpec | GroupSpec[];
  limit?: number;
  filter?: Filter;
}
type Key = string | null;

const NUMERIC = ['data.age', 'data.score', 'data.stars', 'data.double'];
const TEMPORAL = ['data.birthday', 'data.meeting', 'submitted_at', 'updated_at'];
const AGG_FIELDS: Record<Aggregate, (string | undefined)[]> = {
  count: [undefined],
  count_distinct: [
    'data.department',
    'data.age',
    'data.tags',
    'data.meeting',
    'data.birthday',
    'data.double',
    'completed',
    'submitted_at',
    'data.subscribed',
    'data.name',
  ],
  sum: NUMERIC,
  avg: NUMERIC,
  min: [...NUMERIC, ...TEMPORAL.slice(0, 3)],
  max: [...NUMERIC, ...TEMPORAL.slice(1)],
};
const GROUPS: (GroupSpec | GroupSpec[] | undefined)[] = [
  undefined,
  'data.department',
  'data.status',
  'completed',
  'data.subscribed',
  'data.stars',
  'data.age',
  'data.score',
  'data.tags',
  'data.label',
  { date_trunc: 'hour', field: 'submitted_at' },
  { date_trunc: 'day', field: 'updated_at' },
  { date_trunc: 'week', field: 'submitted_at' },
  { date_trunc: 'month', field: 'submitted_at' },
  { date_trunc: 'week', field: 'data.birthday' },
  { date_trunc: 'month', field: 'data.meeting' },
  { date_trunc: 'day', field: 'data.meeting' },
  ['data.department', 'data.status'],
  ['data.tags', { date_trunc: 'month', field: 'submitted_at' }],
  ['completed', 'data.department', 'data.tags'],
];

function aggregateQueries(aggregate: Aggregate): AggQuery[] {
  const queries: AggQuery[] = [];
  for (const field of AGG_FIELDS[aggregate]) {
    for (const group of GROUPS) {
      const query: AggQuery = {
        aggregate,
        ...(field ? { field } : {}),
        ...(group ? { group_by: group } : {}),
      };
      if (chance(0.5)) query.filter = randomFilter();
      // Limits only on exact aggregates: a float tie broken differently would pick other groups.
      if (group && chance(0.3) && !['sum', 'avg'].includes(aggregate)) query.limit = int(1, 3);
      queries.push(query);
    }
  }
  return queries;
}

/** An instant in ms, or null when the stored value is not one. */
function instant(path: string, row: Row): number | null {
  const v = stored(path, row);
  if (v instanceof Date) return v.getTime();
  if (typeof v !== 'string') return null;
  if (path === 'data.birthday') return DATE_RE.test(v) ? Date.parse(`${v}T00:00:00Z`) : null;
  return Date.parse(v);
}

function inputOf(query: AggQuery, row: Row): unknown {
  const { aggregate, field } = query;
  if (field === undefined) return null;
  if (TEMPORAL.includes(field)) return instant(field, row);
  const v = stored(field, row);
  if (field === 'completed') return v;
  // count_distinct of a calculated field tells JSON values apart; of a number field, numbers.
  const numeric =
    NUMERIC.includes(field) && !(aggregate === 'count_distinct' && field === 'data.double');
  if (numeric) return typeof v === 'number' ? v : null;
  return v === undefined || v === null ? null : JSON.stringify(v);
}

function aggregateOf(query: AggQuery, inputs: unknown[]): number | string | null {
  const present = inputs.filter((v) => v !== null);
  const nums = present as number[];
  switch (query.aggregate) {
    case 'count':
      return inputs.length;
    case 'count_distinct':
      return new Set(present).size;
    case 'sum':
      return nums.reduce((a, b) => a + b, 0);
    case 'avg':
      return nums.length ? nums.reduce((a, b) => a + b, 0) / nums.length : null;
    default: {
      if (nums.length === 0) return null;
      const best = query.aggregate === 'min' ? Math.min(...nums) : Math.max(...nums);
      if (!TEMPORAL.includes(query.field!)) return best;
      const iso = new Date(best).toISOString();
      return query.field === 'data.birthday' ? iso.slice(0, 10) : iso;
    }
  }
}

function truncKey(ms: number, unit: string): string {
  const d = new Date(ms);
  const iso = d.toISOString();
  if (unit === 'hour') return `${iso.slice(0, 13)}:00:00Z`;
  if (unit === 'month') return iso.slice(0, 7);
  if (unit === 'day') return iso.slice(0, 10);
  const back = (d.getUTCDay() + 6) % 7; // ISO weeks start on Monday
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - back))
    .toISOString()
    .slice(0, 10);
}

function groupKeys(spec: GroupSpec, row: Row): Key[] {
  if (typeof spec !== 'string') {
    const ms = instant(spec.field, row);
    return [ms === null ? null : truncKey(ms, spec.date_trunc)];
  }
  const v = stored(spec, row);
  if (spec === 'data.tags')
    return Array.isArray(v) && v.length > 0 ? [...new Set(v as string[])] : [null];
  return [v === undefined || v === null ? null : String(v)];
}

const product = (lists: Key[][]): Key[][] =>
  lists.reduce<Key[][]>(
    (acc, list) => acc.flatMap((prefix) => list.map((k) => [...prefix, k])),
    [[]],
  );
const byKey = (a: Key, b: Key): number =>
  a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1;
function byRank(a: { key: Key; value: unknown }, b: { key: Key; value: unknown }): number {
  if (a.value !== b.value) {
    if (a.value === null) return 1;
    if (b.value === null) return -1;
    return (a.value as number) > (b.value as number) ? -1 : 1;
  }
  return byKey(a.key, b.key);
}

function expectedResult(query: AggQuery): QueryResult {
  const selected = query.filter ? new Set(mingoIds(query.filter)) : undefined;
  const included = live.filter((row) => !selected || selected.has(row.id));
  const specs =
    query.group_by === undefined
      ? []
      : Array.isArray(query.group_by)
        ? query.group_by
        : [query.group_by];
  if (specs.length === 0)
    return aggregateOf(
      query,
      included.map((row) => inputOf(query, row)),
    );
  const groups = new Map<string, { keys: Key[]; inputs: unknown[] }>();
  const firstLevel = new Map<Key, unknown[]>(); // each response once per first-level key
  for (const row of included) {
    const lists = specs.map((spec) => groupKeys(spec, row));
    for (const keys of product(lists)) {
      const id = JSON.stringify(keys);
      if (!groups.has(id)) groups.set(id, { keys, inputs: [] });
      groups.get(id)!.inputs.push(inputOf(query, row));
    }
    for (const k of new Set(lists[0])) {
      if (!firstLevel.has(k)) firstLevel.set(k, []);
      firstLevel.get(k)!.push(inputOf(query, row));
    }
  }
  let entries = [...groups.values()].map((g) => ({
    key: g.keys[0] as Key,
    keys: g.keys,
    value: aggregateOf(query, g.inputs),
  }));
  if (query.limit !== undefined) {
    const ranked = [...firstLevel].map(([key, inputs]) => ({
      key,
      value: aggregateOf(query, inputs),
    }));
    const top = new Set(
      ranked
        .sort(byRank)
        .slice(0, query.limit)
        .map((e) => e.key),
    );
    entries = entries.filter((e) => top.has(e.key));
  }
  const root: Record<string, QueryResult> = {};
  for (const entry of entries) {
    let node = root;
    entry.keys.forEach((k, i) => {
      const key = k ?? 'null';
      if (i === entry.keys.length - 1) node[key] = entry.value;
      else node = (node[key] ??= {}) as Record<string, QueryResult>;
    });
  }
  return root;
}

function expectClose(actual: QueryResult, expected: QueryResult, label: string): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    const ok = Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected));
    expect(ok, `${label}: ${actual} != ${expected}`).toBe(true);
  } else if (expected !== null && typeof expected === 'object') {
    expect(actual !== null && typeof actual === 'object', label).toBe(true);
    const got = actual as Record<string, QueryResult>;
    expect(Object.keys(got).sort(), label).toEqual(Object.keys(expected).sort());
    for (const key of Object.keys(expected))
      expectClose(got[key]!, expected[key]!, `${label} [${key}]`);
  } else {
    expect(actual, label).toEqual(expected);
  }
}
