import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Queryable, QueryResult } from '../../src/db/index.ts';
import { OutboxNotifier } from '../../src/events/index.ts';

/** A Queryable whose statements answer only when the test releases them, one by one. */
function heldDatabase() {
  const sent: string[] = [];
  const waiting: (() => void)[] = [];
  const db: Queryable = {
    query<R>(sql: string): Promise<QueryResult<R>> {
      sent.push(sql);
      return new Promise((resolve) => waiting.push(() => resolve({ rows: [], rowCount: 0 })));
    },
  };
  const release = async () => {
    waiting.shift()?.();
    // Let the notifier's `finally` run and send the next one, if any.
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { db, sent, release };
}

describe('OutboxNotifier', () => {
  it('sends one NOTIFY at a time; commits during one fold into exactly one more', async () => {
    const { db, sent, release } = heldDatabase();
    const notifier = new OutboxNotifier(db, pino({ level: 'silent' }));
    notifier.committed();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatch(/set_config\('synchronous_commit', 'off', true\)/);
    expect(sent[0]).toMatch(/pg_notify\('formhub_outbox', ''\)/);
    for (let i = 0; i < 10; i++) notifier.committed();
    expect(sent).toHaveLength(1);
    await release();
    expect(sent).toHaveLength(2);
    await release();
    expect(sent).toHaveLength(2); // nothing committed meanwhile: nothing more
    notifier.committed();
    expect(sent).toHaveLength(3);
    await release();
  });

  it('a failed NOTIFY is not thrown (the relay polls) and the next commit sends again', async () => {
    const sent: string[] = [];
    const db: Queryable = {
      query: (sql: string) => {
        sent.push(sql);
        return Promise.reject(new Error('connection refused'));
      },
    };
    const notifier = new OutboxNotifier(db, pino({ level: 'silent' }));
    notifier.committed();
    for (let i = 0; i < 5; i++) await Promise.resolve();
    notifier.committed();
    expect(sent).toHaveLength(2);
  });
});
