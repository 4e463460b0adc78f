import fc from 'fast-check';
import jsonLogic from 'json-logic-js';
import { describe, expect, it } from 'vitest';
import { evaluateLogic, LOGIC_BUDGET, LogicBudgetError } from '../../src/forms/bounded-logic.ts';
import {
  calculatedBoundIssues,
  checkLogic,
  computeCalculated,
} from '../../src/forms/calculated-fields.ts';

/** Three nested maps over 100-element lists: a million evaluations under json-logic-js. */
function nestedMaps(levels: number, width: number): unknown {
  const list = Array.from({ length: width }, (_, i) => i);
  let logic: unknown = { '+': [{ var: '' }, 1] };
  for (let i = 0; i < levels; i++) logic = { map: [list, logic] };
  return logic;
}

/** A reduce that merges its accumulator with itself: it doubles per element. */
const doubling = {
  reduce: [
    { var: 'data.list' },
    { merge: [{ var: 'accumulator' }, { var: 'accumulator' }] },
    [{ var: 'data.x' }],
  ],
};

function cpuMs(action: () => void): number {
  const start = process.cpuUsage();
  action();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

describe('evaluateLogic against json-logic-js (the oracle)', () => {
  const scalar = fc.oneof(
    fc.integer({ min: -5, max: 5 }),
    fc.constantFrom('a', 'b', '', '1', '2'),
    fc.boolean(),
    fc.constant(null),
  );
  const data = { a: 1, b: 'x', c: [1, 2, 3], d: { e: 'y' }, f: [], g: '' };
  const names = fc.constantFrom('a', 'b', 'c', 'd.e', 'f', 'g', 'nope', 'c.1', '');
  const logic: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      scalar,
      fc.record({ var: names }),
      fc
        .tuple(
          fc.constantFrom(
            '==',
            '===',
            '!=',
            '!==',
            '>',
            '>=',
            '<',
            '<=',
            '!!',
            '!',
            '%',
            'in',
            'cat',
            'substr',
            '+',
            '*',
            '-',
            '/',
            'min',
            'max',
            'merge',
            'if',
            'and',
            'or',
            'missing',
          ),
          fc.array(tie('node'), { maxLength: 3 }),
        )
        .map(([op, args]) => ({ [op]: args })),
      fc
        .tuple(fc.constantFrom('map', 'filter', 'all', 'none', 'some'), tie('node'), tie('node'))
        .map(([op, list, body]) => ({
          [op]: [list, body],
        })),
      fc.tuple(tie('node'), tie('node')).map(([list, body]) => ({ reduce: [list, body, 0] })),
      fc.array(tie('node'), { maxLength: 3 }),
    ),
  })).node;

  it('gives the same answer on random expressions', () => {
    fc.assert(
      fc.property(logic, (expression) => {
        let expected: unknown;
        let oracleThrew = false;
        try {
          expected = jsonLogic.apply(expression as jsonLogic.RulesLogic, data);
        } catch {
          oracleThrew = true;
        }
        if (oracleThrew) return; // e.g. `*` with no arguments; computeCalculated stores null either way
        expect(evaluateLogic(expression, data)).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('the operation budget', () => {
  it('stops three nested maps (a million steps) within a few milliseconds of CPU', () => {
    let thrown: unknown;
    const ms = cpuMs(() => {
      try {
        evaluateLogic(nestedMaps(3, 100), {});
      } catch (error) {
        thrown = error;
      }
    });
    expect(thrown).toBeInstanceOf(LogicBudgetError);
    expect(ms).toBeLessThan(250);
  });

  it('stops a doubling reduce before it builds megabytes', () => {
    const list = Array.from({ length: 24 }, (_, i) => i);
    let thrown: unknown;
    const ms = cpuMs(() => {
      try {
        evaluateLogic(doubling, {
          data: { list, x: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' },
        });
      } catch (error) {
        thrown = error;
      }
    });
    expect(thrown).toBeInstanceOf(LogicBudgetError);
    expect(ms).toBeLessThan(250);
  });

  it('lets ordinary expressions through, and spends its budget on the worst string work in bounded time', () => {
    expect(evaluateLogic(nestedMaps(2, 30), {})).toHaveLength(30);
    const big = 'a'.repeat(64 * 1024);
    let thrown: unknown;
    const ms = cpuMs(() => {
      try {
        evaluateLogic(
          { reduce: [nestedMaps(1, 10_000), { cat: [{ var: 'accumulator' }, big] }, ''] },
          {},
        );
      } catch (error) {
        thrown = error;
      }
    });
    expect(thrown).toBeInstanceOf(LogicBudgetError);
    expect(ms).toBeLessThan(250);
    expect(LOGIC_BUDGET).toBeGreaterThan(10_000);
  });

  it('reads only own properties with var', () => {
    expect(evaluateLogic({ var: 'data.constructor' }, { data: {} })).toBeNull();
    expect(evaluateLogic({ var: 'data.s.length' }, { data: { s: 'abc' } })).toBe(3);
  });
});

describe('calculated field bounds', () => {
  it('refuses expressions past 10 KB or 32 levels, and unknown operators, without evaluating', () => {
    expect(checkLogic({ cat: ['x'.repeat(10 * 1024)] })).toMatch(/at most 10240 bytes/);
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(checkLogic({ var: deep })).toMatch(/deeper than 32 levels/);
    expect(checkLogic({ if: [true, { nope: [] }] })).toMatch(/Unrecognized operation nope/);
    expect(checkLogic({ '+': [{ var: 'data.a' }, 1] })).toBeNull();
  });

  it('refuses at save what passes its bounds even with no answers, not what depends on them', () => {
    expect(calculatedBoundIssues([{ key: 'm', logic: nestedMaps(3, 100) }])).toEqual([
      {
        field: 'calculated_fields[0].logic',
        message: expect.stringMatching(/more than .* operations/),
      },
    ]);
    expect(calculatedBoundIssues([{ key: 'd', logic: doubling }])).toEqual([]);
  });

  it('refuses at submission a result past 64 KB or past the budget, naming the field', () => {
    const fields = [{ key: 'd', logic: doubling }];
    expect(() =>
      computeCalculated(fields, { list: Array.from({ length: 30 }, () => 0), x: 'x' }),
    ).toThrow(
      expect.objectContaining({
        code: 'validation_failed',
        details: [{ field: 'd', message: expect.any(String) }],
      }),
    );
    const wide = [{ key: 'w', logic: { cat: [{ var: 'data.s' }, { var: 'data.s' }] } }];
    expect(() => computeCalculated(wide, { s: 'x'.repeat(40_000) })).toThrow(
      expect.objectContaining({
        details: [{ field: 'w', message: 'its result must be at most 65536 bytes as JSON' }],
      }),
    );
    expect(
      computeCalculated([{ key: 'n', logic: { '+': [{ var: 'data.a' }, 1] } }], { a: 1 }),
    ).toEqual({ a: 1, n: 2 });
  });
});
