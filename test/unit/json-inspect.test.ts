import { describe, expect, it } from 'vitest';
import {
  findTextProblem,
  formatPath,
  measureJson,
  textProblem,
} from '../../src/common/json-inspect.ts';
import { metadataProblem } from '../../src/responses/metadata-limits.ts';
import { MAX_ROW_BYTES, RowBuffer } from '../../src/responses/row-buffer.ts';

const NUL = 'must not contain U+0000 (NUL)';
const LONE = 'must not contain an unpaired surrogate (it is not valid Unicode)';

function nested(levels: number): unknown {
  let value: unknown = 'x';
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

describe('textProblem', () => {
  it.each([
    ['a\u0000b', NUL],
    ['\ud800', LONE],
    ['x\udc00', LONE],
    ['\udc00\ud800', LONE],
    ['\ud83d\ude00', null],
    ['\u0001\u001f\u007f\ufffd', null],
    ['', null],
  ])('%j -> %s', (text, expected) => {
    expect(textProblem(text)).toBe(expected);
  });
});

describe('findTextProblem', () => {
  it('finds bad text in values and keys, naming the path', () => {
    expect(findTextProblem({ a: ['ok', 'x\u0000'] }, 64)).toEqual({ path: ['a', 1], message: NUL });
    expect(findTextProblem({ a: { 'k\ud800': 1 } }, 64)).toEqual({
      path: ['a', 'k\ud800'],
      message: `key ${LONE}`,
    });
    expect(findTextProblem({ a: [1, true, null, { b: 'fine' }] }, 64)).toBeNull();
  });

  it('reports the first bad place in document order', () => {
    expect(findTextProblem({ a: 'x\u0000', b: '\ud800' }, 64)?.path).toEqual(['a']);
  });

  it('stops at the depth bound without recursing, even 100,000 levels deep', () => {
    const problem = findTextProblem(nested(100_000), 64);
    expect(problem?.message).toBe('must not be nested deeper than 64 levels');
    expect(problem?.path).toHaveLength(64);
    expect(findTextProblem(nested(64), 64)).toBeNull();
  });
});

describe('measureJson', () => {
  it('measures serialized bytes exactly within the limit', () => {
    for (const value of [
      { a: [1, 'é', null, true, false] },
      [],
      {},
      'x"\n',
      [[1.5, -2], { ké: {} }],
    ]) {
      expect(measureJson(value, { maxDepth: 16, maxBytes: 1e6 }).bytes).toBe(
        Buffer.byteLength(JSON.stringify(value)),
      );
    }
  });

  it('counts depth, and stops early on deep values', () => {
    expect(measureJson({ a: [{}] }, { maxDepth: 16, maxBytes: 1e6 }).depth).toBe(3);
    expect(measureJson(nested(100_000), { maxDepth: 16, maxBytes: 1e6 }).depth).toBe(17);
  });

  it('backs the metadata bounds: 16 levels and 16 KB', () => {
    expect(metadataProblem(nested(15))).toBeNull(); // 15 objects around a string
    expect(metadataProblem(nested(17))).toBe('must not be nested deeper than 16 levels');
    expect(metadataProblem({ k: 'x'.repeat(16 * 1024 - 8) })).toBeNull();
    expect(metadataProblem({ k: 'x'.repeat(16 * 1024 - 7) })).toBe(
      'must be at most 16384 bytes as JSON',
    );
  });
});

describe('formatPath', () => {
  it('names places as error details do', () => {
    expect(formatPath('metadata', ['a', 0, 'b'])).toBe('metadata.a[0].b');
    expect(formatPath('', ['data', 'name'])).toBe('data.name');
    expect(formatPath('[3]', ['data'])).toBe('[3].data');
    expect(formatPath('', [])).toBe('body');
  });
});

describe('RowBuffer', () => {
  it('fails as soon as a row passes 1 MiB of UTF-8, before keeping more', () => {
    const buffer = new RowBuffer(() => new Error('too large'));
    buffer.push('x'.repeat(MAX_ROW_BYTES - 2));
    expect(() => buffer.push('é')).not.toThrow(); // 2 bytes: exactly at the bound
    expect(() => buffer.push('x')).toThrow('too large');
  });

  it('joins a row and starts the next one empty', () => {
    const buffer = new RowBuffer(() => new Error('too large'));
    buffer.push('ab');
    expect(buffer.take('c')).toBe('abc');
    expect(buffer.empty).toBe(true);
    expect(buffer.take('x'.repeat(MAX_ROW_BYTES))).toHaveLength(MAX_ROW_BYTES);
  });
});
