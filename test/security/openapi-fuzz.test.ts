/**
 * Property-based fuzzing of every operation of the hub's own OpenAPI document
 * (DESIGN.md section 3a: "Anything a client sends, with or without a key, gets an answer in
 * the error shape above: never a 500, never a hang, never another tenant's data").
 *
 * Each operation gets FUZZ_RUNS cases; a case is a valid request with exactly one thing
 * broken (a path id, a query parameter, a body field, the raw body, the content type, a
 * header, the method) or nothing ("baseline"), sent with no key, workspace A's key, B's
 * key, the admin key or a made-up key, naming A's or B's real objects (ids also in upper
 * case) or an unknown id. See docs/security.md, "Fuzzing", for the properties and knobs.
 *
 * Nothing is excluded: the SSE route (`/analytics/forms/{id}/stream`) is read to its
 * headers, then the request is aborted (request.ts `send`).
 */
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { ADMIN_KEY, startHub } from '../support/hub.ts';
import { casesOf, type FuzzCase } from './fuzz/cases.ts';
import { listOperations, type OpenApiDocument, type Operation } from './fuzz/openapi.ts';
import { codeOf, violationsOf } from './fuzz/properties.ts';
import { FailureTable } from './fuzz/report.ts';
import { buildRequest, send } from './fuzz/request.ts';
import { seedObjects, seedWorld, type World } from './fuzz/world.ts';

const env = process.env;
/** Cases per operation; about a minute in all on 2 cores at the default. */
const RUNS = Number(env.FUZZ_RUNS ?? 50);
/** One seed for every operation, so FUZZ_SEED replays a whole run (the database may differ). */
const SEED =
  env.FUZZ_SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(env.FUZZ_SEED);
const PATH = env.FUZZ_PATH;
const ONLY = env.FUZZ_OP;
const TIMEOUT_MS = Number(env.FUZZ_TIMEOUT_MS ?? 5_000);
/** Exploration: record every failure, never stop, print a de-duplicated table at the end. */
const REPORT = env.FUZZ_REPORT !== undefined && env.FUZZ_REPORT !== '0';

const hub = await startHub(
  {
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    RATE_LIMIT_PER_IP: '10000000',
    RATE_LIMIT_PER_FORM: '100000000',
    TRUST_PROXY: 'true',
  },
  { worker: true },
);
const doc = (
  await hub.request({ method: 'GET', url: '/api/v2/openapi.json' })
).json() as OpenApiDocument;
const operations = listOperations(doc);

describe('fuzzing every OpenAPI operation', () => {
  let receiver: Receiver;
  let world: World;
  let baseUrl: URL;
  const table = new FailureTable();

  beforeAll(async () => {
    receiver = await startReceiver(() => ({ status: 200 }));
    world = await seedWorld(hub, receiver.url, ADMIN_KEY);
    await hub.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = new URL(`http://127.0.0.1:${(hub.app.server.address() as AddressInfo).port}`);
    if (REPORT)
      console.log(
        `fuzz: ${operations.length} operations, ${RUNS} runs each, seed ${SEED} (FUZZ_SEED=${SEED} repeats these cases)`,
      );
  });

  afterAll(async () => {
    if (REPORT) console.log(table.render());
    await hub.close();
    await receiver?.close();
  });

  it('reads a document with operations on every resource', () => {
    expect(operations.length).toBeGreaterThan(40);
    expect(operations.filter((o) => o.idKind).length).toBeGreaterThan(30);
  });

  /** Sends one case; throws (strict mode) or records (report mode) what it broke. */
  async function check(op: Operation, c: FuzzCase): Promise<void> {
    const req = buildRequest(op, c, world, receiver.url);
    const answer = await send(baseUrl, req, TIMEOUT_MS);
    table.see(op.name, answer);
    const deletedReal =
      req.method === 'DELETE' && answer.status >= 200 && answer.status < 300 && req.targetOwner;
    if (deletedReal) await seedObjects(hub, world, world[req.targetOwner!], receiver.url);
    const violations = violationsOf(op, req, answer, world, TIMEOUT_MS);
    // Ids are case-insensitive (DESIGN.md 3a): a valid read by upper-case id answers as the lower-case one does.
    if (
      req.label === 'baseline' &&
      c.target === 'A-upper' &&
      req.method === 'GET' &&
      req.viewers.has('A') &&
      answer.status > 0
    ) {
      const twin = await send(
        baseUrl,
        buildRequest(op, { ...c, target: 'A' }, world, receiver.url),
        TIMEOUT_MS,
      );
      if (twin.status !== answer.status)
        violations.push({
          property: 'ids-case-insensitive',
          status: answer.status,
          code: codeOf(answer.body),
          detail: `upper-case id answered ${answer.status}, lower-case ${twin.status}`,
        });
    }
    if (REPORT) {
      for (const v of violations) table.add(op.name, req, v);
      return;
    }
    if (violations.length > 0) {
      const lines = violations.map((v) => `${v.property}: ${v.status} ${v.code}: ${v.detail}`);
      throw new Error(
        `${req.method} ${req.path.slice(0, 200)} [${req.label}, key ${c.auth}] in ${Math.round(answer.ms)} ms\n${lines.join('\n')}`,
      );
    }
  }

  for (const op of operations) {
    const selected = ONLY === undefined || op.name.includes(ONLY);
    it.skipIf(!selected)(
      op.name,
      async () => {
        await fc.assert(
          fc.asyncProperty(casesOf(op, doc), (c) => check(op, c)),
          {
            numRuns: RUNS,
            seed: SEED,
            ...(PATH === undefined ? {} : { path: PATH }),
            // A case breaks one thing already; shrinking would re-send requests against a changed database.
            endOnFailure: true,
          },
        );
      },
      RUNS * TIMEOUT_MS + 120_000,
    );
  }
});
