import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgDatabase } from '../../src/db/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

/**
 * QueryOptions.name on PostgreSQL: a named statement is prepared once on the connection that
 * runs it, then only bound and run (the submission's write uses it), with the same results
 * as the unnamed statement.
 */
describe('named statements (QueryOptions.name) on PostgreSQL', () => {
  let database: TestDatabase;
  let db: PgDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = new PgDatabase({ url: database.url, poolMin: 0, poolMax: 2 });
  });

  afterAll(async () => {
    await db.close();
    await database.drop();
  });

  it('prepares the statement once per connection and answers as the unnamed one does', async () => {
    const sql = 'SELECT $1::int + 1 AS n, $2::text AS t';
    const prepared = await db.transaction(async (tx) => {
      const first = await tx.query(sql, [1, 'a'], { name: 'test_add_one' });
      const second = await tx.query(sql, [41, 'ÉTÉ \u{1F984}'], { name: 'test_add_one' });
      const plain = await tx.query(sql, [41, 'ÉTÉ \u{1F984}']);
      const { rows } = await tx.query<{ name: string; statement: string }>(
        'SELECT name, statement FROM pg_prepared_statements',
      );
      return { first: first.rows, second: second.rows, plain: plain.rows, statements: rows };
    });
    expect(prepared.first).toEqual([{ n: 2, t: 'a' }]);
    expect(prepared.second).toEqual(prepared.plain);
    expect(prepared.second).toEqual([{ n: 42, t: 'ÉTÉ \u{1F984}' }]);
    expect(prepared.statements).toEqual([{ name: 'test_add_one', statement: sql }]);
  });

  it('reports errors of a named statement like any other, and runs it again afterwards', async () => {
    const sql = 'SELECT 1 / $1::int AS q';
    await expect(db.query(sql, [0], { name: 'test_divide' })).rejects.toThrow(/division by zero/);
    await expect(db.query(sql, [1], { name: 'test_divide' })).resolves.toMatchObject({
      rows: [{ q: 1 }],
    });
  });
});
