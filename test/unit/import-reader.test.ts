import { describe, it, expect } from 'vitest';
import {
  detectImportFormat,
  ImportSyntaxError,
  readImportRows,
} from '../../src/responses/import-reader.ts';
import type { ImportFormat } from '../../src/responses/import-reader.ts';

async function* chunksOf(...chunks: (Buffer | string)[]): AsyncGenerator<Buffer | string> {
  for (const chunk of chunks) yield chunk;
}

async function collect(
  body: AsyncIterable<Buffer | string>,
  format: ImportFormat,
): Promise<unknown[]> {
  const values: unknown[] = [];
  let expected = 0;
  for await (const row of readImportRows(body, format)) {
    expect(row.index).toBe(expected++);
    values.push(row.value);
  }
  return values;
}

/** Reads until the reader throws; returns the error and the rows yielded before it. */
async function failure(
  text: string | Buffer,
  format: ImportFormat = 'json',
): Promise<{ error: ImportSyntaxError; rows: unknown[] }> {
  const rows: unknown[] = [];
  try {
    for await (const row of readImportRows(chunksOf(text), format)) rows.push(row.value);
  } catch (error) {
    expect(error).toBeInstanceOf(ImportSyntaxError);
    return { error: error as ImportSyntaxError, rows };
  }
  throw new Error('expected an ImportSyntaxError');
}

function splitAt(bytes: Buffer, at: number): Buffer[] {
  return [bytes.subarray(0, at), bytes.subarray(at)];
}

function bytewise(bytes: Buffer): Buffer[] {
  return Array.from(bytes, (byte) => Buffer.from([byte]));
}

const SAMPLE_BODY = [
  '\uFEFF \n [ ',
  '{"name":"Zoë","note":"has ] and } and , and [ and { inside","nested":{"list":[1,[2,{"deep":"x"}]],"empty":{}}} ,',
  '\n{"quote":"she said \\"hi\\"","path":"C:\\\\dir\\\\","tail":"\\\\","emoji":"😀"},',
  '["array row",{"a":[]},[]],',
  '"a plain string with [brackets], {braces} and \\"quotes\\\\\\"",',
  '42,null,true,-1.5e3,{},',
  '{"kéy":"é😀é","u":"\\u00e9\\ud83d\\ude00","esc":"\\\\\\""}',
  '\r\n]\t\n ',
].join('');
const SAMPLE_BYTES = Buffer.from(SAMPLE_BODY);
const SAMPLE_ROWS = JSON.parse(SAMPLE_BODY.slice(1)) as unknown[];

describe('readImportRows (json)', () => {
  it('yields every element of the sample', async () => {
    expect(SAMPLE_ROWS).toHaveLength(10);
    expect(await collect(chunksOf(SAMPLE_BYTES), 'json')).toEqual(SAMPLE_ROWS);
  });

  it('gives the same rows wherever a chunk boundary falls', async () => {
    for (let at = 0; at <= SAMPLE_BYTES.length; at++) {
      const rows = await collect(chunksOf(...splitAt(SAMPLE_BYTES, at)), 'json');
      expect(rows, `split at byte ${at}`).toEqual(SAMPLE_ROWS);
    }
  });

  it('gives the same rows when every byte is its own chunk', async () => {
    expect(await collect(chunksOf(...bytewise(SAMPLE_BYTES)), 'json')).toEqual(SAMPLE_ROWS);
  });

  it('accepts string chunks', async () => {
    const texts = [SAMPLE_BODY.slice(0, 40), SAMPLE_BODY.slice(40, 41), SAMPLE_BODY.slice(41)];
    expect(await collect(chunksOf(...texts), 'json')).toEqual(SAMPLE_ROWS);
  });

  it('yields nothing for an empty array', async () => {
    expect(await collect(chunksOf('[]'), 'json')).toEqual([]);
    expect(await collect(chunksOf(' \n[ \n ]\n'), 'json')).toEqual([]);
    expect(await collect(chunksOf('[', ']'), 'json')).toEqual([]);
  });

  it('names the row that is not valid JSON, after yielding the rows before it', async () => {
    const { error, rows } = await failure('[{"a":1},{"a":2},{"a":3},{"a":}]');
    expect(error.index).toBe(3);
    expect(error.message).toMatch(/^row 3: not valid JSON \(.+\)$/);
    expect(rows).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
  });

  it.each([
    ['{"a":1}', 'body must be a JSON array'],
    ['', 'body must be a JSON array'],
    ['  \n ', 'body must be a JSON array'],
    ['[{"a":1}', 'unexpected end of body: the JSON array is not closed'],
    ['[{"a":1},', 'unexpected end of body: the JSON array is not closed'],
    ['["abc]', 'unexpected end of body: the JSON array is not closed'],
    ['[1] x', 'unexpected content after the end of the JSON array'],
    ['[1][2]', 'unexpected content after the end of the JSON array'],
  ])('rejects %j as a whole body', async (text, message) => {
    const { error } = await failure(text);
    expect(error.message).toBe(message);
    expect(error.index).toBeNull();
  });

  it.each([
    ['[1,]', 1, 'missing value'],
    ['[1,,2]', 1, 'missing value'],
    ['[ ,1]', 0, 'missing value'],
    ['[{"a":1]]', 0, 'mismatched brackets'],
    ['[1},2]', 0, "unexpected '}'"],
    ['[1 2]', 0, 'Unexpected'],
    [`[1,${'['.repeat(600)}`, 1, 'nested deeper than 512 levels'],
  ])('rejects %s naming the row', async (text, index, reason) => {
    const { error } = await failure(text);
    expect(error.index).toBe(index);
    expect(error.message).toContain(`row ${index}: not valid JSON (`);
    expect(error.message).toContain(reason);
  });

  it('rejects a body that is not valid UTF-8', async () => {
    const { error } = await failure(Buffer.from([0x5b, 0x22, 0xff, 0x22, 0x5d]));
    expect(error.message).toBe('body is not valid UTF-8');
    const truncated = await failure(Buffer.from('["é"]').subarray(0, 3));
    expect(truncated.error.message).toBe('body is not valid UTF-8');
  });
});

describe('readImportRows (ndjson)', () => {
  const body = '\uFEFF{"a":1,"s":"é😀"}\r\n\r\n  \n[1,2]\r\n"text"\n\n{"a":3}';
  const expected = [{ a: 1, s: 'é😀' }, [1, 2], 'text', { a: 3 }];

  it('skips blank lines and strips carriage returns, with or without a final newline', async () => {
    expect(await collect(chunksOf(body), 'ndjson')).toEqual(expected);
    expect(await collect(chunksOf(`${body}\r\n\n`), 'ndjson')).toEqual(expected);
    expect(await collect(chunksOf(''), 'ndjson')).toEqual([]);
  });

  it('gives the same rows wherever a chunk boundary falls', async () => {
    const bytes = Buffer.from(body);
    for (let at = 0; at <= bytes.length; at++) {
      expect(await collect(chunksOf(...splitAt(bytes, at)), 'ndjson'), `split at ${at}`).toEqual(
        expected,
      );
    }
    expect(await collect(chunksOf(...bytewise(bytes)), 'ndjson')).toEqual(expected);
  });

  it('names the row index and the line number of a bad line', async () => {
    const { error, rows } = await failure('{"a":1}\r\n\n{"a":}\r\n{"a":3}\n', 'ndjson');
    expect(error.index).toBe(1);
    expect(error.message).toMatch(/^row 1 \(line 3\): not valid JSON \(.+\)$/);
    expect(rows).toEqual([{ a: 1 }]);
  });
});

const CHUNK_SIZE = 64 * 1024;

/** Generates a body of `rowCount` rows lazily, in 64 KiB byte chunks (splitting characters). */
async function* generatedBody(
  rowCount: number,
  format: ImportFormat,
  progress: { chunks: number },
): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [Buffer.from(format === 'json' ? '[\n' : '')];
  let size = parts[0]?.length ?? 0;
  for (let i = 0; i < rowCount; i++) {
    const row = JSON.stringify({
      i,
      email: `user${i}@example.com`,
      name: `Zoë 😀 ${i}`,
      tags: ['a', 'b'],
    });
    const separator = format === 'json' && i > 0 ? ',\n' : '';
    const bytes = Buffer.from(format === 'json' ? separator + row : `${row}\n`);
    parts.push(bytes);
    size += bytes.length;
    if (size < CHUNK_SIZE) continue;
    let pending = Buffer.concat(parts);
    for (; pending.length >= CHUNK_SIZE; pending = pending.subarray(CHUNK_SIZE)) {
      progress.chunks++;
      yield pending.subarray(0, CHUNK_SIZE);
    }
    parts = [pending];
    size = pending.length;
  }
  if (format === 'json') parts.push(Buffer.from('\n]\n'));
  progress.chunks++;
  yield Buffer.concat(parts);
}

describe('readImportRows (100,000 rows)', () => {
  it.each(['json', 'ndjson'] as const)(
    'streams %s rows without reading the whole body first',
    async (format) => {
      const rowCount = 100_000;
      const progress = { chunks: 0 };
      let count = 0;
      let last: unknown;
      let chunksBeforeFirstRow = -1;
      for await (const row of readImportRows(generatedBody(rowCount, format, progress), format)) {
        if (count === 0) chunksBeforeFirstRow = progress.chunks;
        expect(row.index).toBe(count);
        count++;
        last = row.value;
      }
      expect(chunksBeforeFirstRow).toBe(1);
      expect(progress.chunks).toBeGreaterThan(100);
      expect(count).toBe(rowCount);
      expect(last).toEqual({
        i: rowCount - 1,
        email: `user${rowCount - 1}@example.com`,
        name: `Zoë 😀 ${rowCount - 1}`,
        tags: ['a', 'b'],
      });
    },
  );
});

describe('detectImportFormat', () => {
  it.each([
    ['application/json', 'json'],
    ['Application/JSON; charset=utf-8', 'json'],
    ['application/x-ndjson', 'ndjson'],
    ['application/ndjson;charset=UTF-8', 'ndjson'],
    ['application/jsonl', 'ndjson'],
    ['application/jsonlines', 'ndjson'],
    [' APPLICATION/X-JSONLINES ; foo=bar', 'ndjson'],
    ['text/csv', null],
    ['application/json-patch+json', null],
    ['', null],
    [undefined, null],
  ])('maps %j to %j', (contentType, format) => {
    expect(detectImportFormat(contentType)).toBe(format);
  });
});
