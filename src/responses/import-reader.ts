/**
 * Streaming reader for bulk-import bodies (DESIGN.md, "Responses": bulk import).
 * A body may be hundreds of MB, so rows are split off and yielded one by one; only
 * the unfinished row's text is kept between chunks (at most 1 MiB), never the whole body.
 */

import { TextDecoder } from 'node:util';
import { MAX_ROW_BYTES, RowBuffer } from './row-buffer.ts';

/** The two body encodings bulk import accepts. */
export type ImportFormat = 'json' | 'ndjson';

/** One top-level row of an import body, parsed, with its 0-based index. */
export interface ImportRow {
  index: number;
  value: unknown;
}

/** A malformed import body; `index` names the 0-based row when one is at fault. */
export class ImportSyntaxError extends Error {
  override readonly name: string = 'ImportSyntaxError';
  /** The 0-based row index, or null when the fault is in the body as a whole. */
  readonly index: number | null;

  constructor(message: string, index: number | null = null, options?: ErrorOptions) {
    super(message, options);
    this.index = index;
  }
}

/** A row past MAX_ROW_BYTES: reading stopped there (422 naming the row and line). */
export class ImportRowTooLargeError extends ImportSyntaxError {
  override readonly name: string = 'ImportRowTooLargeError';
  constructor(index: number, where: string) {
    super(
      `row ${index}${where} is larger than ${MAX_ROW_BYTES} bytes (1 MiB), the most a row may be`,
      index,
    );
  }
}

const NDJSON_MEDIA_TYPES = new Set([
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/jsonlines',
  'application/x-jsonlines',
]);

/**
 * Maps a Content-Type header to an import format, ignoring parameters such as
 * `; charset=utf-8` and letter case. Returns null for anything unsupported.
 */
export function detectImportFormat(contentType: string | undefined): ImportFormat | null {
  if (contentType === undefined) return null;
  const mediaType = (contentType.split(';', 1)[0] ?? '').trim().toLowerCase();
  if (mediaType === 'application/json') return 'json';
  return NDJSON_MEDIA_TYPES.has(mediaType) ? 'ndjson' : null;
}

/**
 * Yields each top-level row of the body, parsed, with its 0-based index: the
 * elements of a JSON array, or the non-blank lines of NDJSON. Rows that are not
 * objects are yielded too; the caller validates their shape.
 *
 * @throws ImportSyntaxError on malformed input or invalid UTF-8, after yielding
 *   every row before the fault.
 */
export function readImportRows(
  body: AsyncIterable<Buffer | string>,
  format: ImportFormat,
): AsyncGenerator<ImportRow> {
  // Returned rather than delegated with `yield*`: one async-generator layer less per row.
  const texts = decodeBody(body);
  return format === 'json' ? readJsonArray(texts) : readNdjson(texts);
}

/** Decodes UTF-8 chunks as a stream (a character may straddle chunks) and drops a leading BOM. */
async function* decodeBody(body: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let atStart = true;
  for await (const chunk of body) {
    const text = typeof chunk === 'string' ? chunk : decodeBytes(decoder, chunk);
    if (text.length === 0) continue;
    yield atStart && text.charCodeAt(0) === BOM ? text.slice(1) : text;
    atStart = false;
  }
  const rest = decodeBytes(decoder);
  if (rest.length > 0) yield rest;
}

/** Decodes one chunk, or flushes the decoder when `bytes` is omitted. */
function decodeBytes(decoder: TextDecoder, bytes?: Uint8Array): string {
  try {
    return bytes === undefined ? decoder.decode() : decoder.decode(bytes, { stream: true });
  } catch (error) {
    throw new ImportSyntaxError('body is not valid UTF-8', null, { cause: error });
  }
}

async function* readJsonArray(texts: AsyncIterable<string>): AsyncGenerator<ImportRow> {
  const scanner = new JsonArrayScanner();
  let index = 0;
  for await (const text of texts) {
    for (const value of scanner.push(text)) yield { index: index++, value };
  }
  scanner.end();
}

async function* readNdjson(texts: AsyncIterable<string>): AsyncGenerator<ImportRow> {
  let lineNumber = 0;
  let index = 0;
  const carry = new RowBuffer(() => new ImportRowTooLargeError(index, ` (line ${lineNumber + 1})`));
  const take = (line: string): ImportRow | null => {
    lineNumber++;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (isBlank(line)) return null;
    const value = parseRow(line, index, ` (line ${lineNumber})`);
    return { index: index++, value };
  };
  for await (const text of texts) {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const row = take(carry.take(text.slice(start, nl)));
      start = nl + 1;
      if (row !== null) yield row;
    }
    if (start < text.length) carry.push(text.slice(start));
  }
  const last = carry.empty ? null : take(carry.take(''));
  if (last !== null) yield last;
}

const BOM = 0xfeff;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
/** Deeper nesting is refused so a hostile body cannot grow the bracket stack without bound. */
const MAX_DEPTH = 512;
const TOO_DEEP = `nested deeper than ${MAX_DEPTH} levels`;
const NOT_AN_ARRAY = 'body must be a JSON array';
const NOT_CLOSED = 'unexpected end of body: the JSON array is not closed';

type Phase = 'before-array' | 'in-array' | 'after-array';

/**
 * Splits a JSON array into its top-level elements incrementally. It tracks
 * string and escape state and a stack of open brackets, so `,` or `]` inside a
 * string or a nested value never ends an element; each element's text is then
 * handed to JSON.parse, which does the real validation.
 */
class JsonArrayScanner {
  private phase: Phase = 'before-array';
  private readonly closers: number[] = [];
  private inString = false;
  private escaped = false;
  private rowIndex = 0;
  /** Text of the unfinished element from earlier chunks. */
  private readonly parts = new RowBuffer(() => new ImportRowTooLargeError(this.rowIndex, ''));

  /**
   * Feeds the next piece of text; yields the elements it completes, parsed.
   * Lazy, so a fault is thrown only after every row before it was taken.
   */
  *push(text: string): Generator<unknown> {
    let at = 0;
    if (this.phase === 'before-array') at = this.openArray(text);
    if (this.phase === 'in-array') at = yield* this.scanElements(text, at);
    if (this.phase === 'after-array') assertTrailingWhitespace(text, at);
  }

  /** Signals the end of the body. */
  end(): void {
    if (this.phase === 'before-array') throw new ImportSyntaxError(NOT_AN_ARRAY);
    if (this.phase === 'in-array') throw new ImportSyntaxError(NOT_CLOSED);
  }

  private openArray(text: string): number {
    let at = 0;
    while (at < text.length && isWhitespace(text.charCodeAt(at))) at++;
    if (at === text.length) return at;
    if (text.charCodeAt(at) !== OPEN_BRACKET) throw new ImportSyntaxError(NOT_AN_ARRAY);
    this.phase = 'in-array';
    return at + 1;
  }

  /** Scans from `at`, yielding finished elements; returns where the array closed, or the text's end. */
  private *scanElements(text: string, at: number): Generator<unknown, number> {
    let start = at;
    for (let i = at; i < text.length; i++) {
      if (this.inString) {
        i = this.skipString(text, i);
        continue;
      }
      const code = text.charCodeAt(i);
      if (code === QUOTE) {
        this.inString = true;
      } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
        this.open(code === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET);
      } else if (this.closers.length > 0 && (code === CLOSE_BRACE || code === CLOSE_BRACKET)) {
        this.close(code);
      } else if (code === CLOSE_BRACE) {
        throw this.rowError("unexpected '}'");
      } else if (code === CLOSE_BRACKET) {
        const tail = text.slice(start, i);
        if (!this.closesEmptyArray(tail)) yield this.finishElement(tail);
        this.phase = 'after-array';
        return i + 1;
      } else if (code === COMMA && this.closers.length === 0) {
        yield this.finishElement(text.slice(start, i));
        start = i + 1;
      }
    }
    if (start < text.length) this.parts.push(text.slice(start));
    return text.length;
  }

  /**
   * From `at` inside a string, returns its closing quote's index or the text's end.
   * indexOf jumps from quote to quote; one after an odd run of backslashes is escaped.
   * Nothing before `at` counts: it is a quote, or was escaped at the previous chunk's end.
   */
  private skipString(text: string, at: number): number {
    let from = at;
    if (this.escaped) {
      this.escaped = false;
      from++;
    }
    for (let quote = text.indexOf('"', from); quote !== -1; quote = text.indexOf('"', from)) {
      if (backslashesBefore(text, quote, from) % 2 === 0) {
        this.inString = false;
        return quote;
      }
      from = quote + 1;
    }
    this.escaped = from < text.length && backslashesBefore(text, text.length, from) % 2 === 1;
    return text.length;
  }

  private open(closer: number): void {
    if (this.closers.length >= MAX_DEPTH) throw this.rowError(TOO_DEEP);
    this.closers.push(closer);
  }

  private close(code: number): void {
    if (this.closers.pop() !== code) throw this.rowError('mismatched brackets');
  }

  /** Whether `]` closes `[]`: a first element that is blank is no row. */
  private closesEmptyArray(tail: string): boolean {
    return this.rowIndex === 0 && isBlank(tail) && this.parts.every(isBlank);
  }

  /** Parses the finished element's text (earlier chunks' parts plus `tail`). */
  private finishElement(tail: string): unknown {
    const text = this.parts.take(tail);
    return parseRow(text, this.rowIndex++, '');
  }

  private rowError(reason: string): ImportSyntaxError {
    return new ImportSyntaxError(`row ${this.rowIndex}: not valid JSON (${reason})`, this.rowIndex);
  }
}

function assertTrailingWhitespace(text: string, at: number): void {
  for (let i = at; i < text.length; i++) {
    if (!isWhitespace(text.charCodeAt(i))) {
      throw new ImportSyntaxError('unexpected content after the end of the JSON array');
    }
  }
}

/** JSON.parse with the row (and, for NDJSON, line) named in the error. */
function parseRow(text: string, index: number, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = isBlank(text) ? 'missing value' : (error as Error).message;
    const message = `row ${index}${where}: not valid JSON (${reason})`;
    throw new ImportSyntaxError(message, index, { cause: error });
  }
}

/** Counts the run of backslashes just before `end`, not looking before `floor`. */
function backslashesBefore(text: string, end: number, floor: number): number {
  let i = end;
  while (i > floor && text.charCodeAt(i - 1) === BACKSLASH) i--;
  return end - i;
}

/** JSON whitespace only: space, tab, line feed, carriage return. */
function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

const BLANK = /^[ \t\n\r]*$/;
function isBlank(text: string): boolean {
  return text.length === 0 || (isWhitespace(text.charCodeAt(0)) && BLANK.test(text));
}
