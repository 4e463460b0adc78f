import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { gzipSync } from 'node:zlib';
import type { FakeAnswer, ServiceFake } from '@formhub/sdk';

/**
 * A local stand-in for the slice of the Google Sheets API v4 the google-sheets connector
 * uses, with the request and answer shapes of Google's reference:
 * - `GET  /v4/spreadsheets/{id}/values/{range}?majorDimension=ROWS|COLUMNS` -> ValueRange
 *   `{range, majorDimension, values}` (`values` left out when the range is empty);
 * - `PUT  /v4/spreadsheets/{id}/values/{range}?valueInputOption=...` -> UpdateValuesResponse;
 * - `POST /v4/spreadsheets/{id}/values/{range}:append?valueInputOption=...&insertDataOption=...`
 *   -> AppendValuesResponse `{spreadsheetId, tableRange, updates: {updatedRange, ...}}`.
 * Errors use Google's `{error: {code, message, status}}`: 401 for a missing or unknown bearer
 * token, 404 for an unknown spreadsheet, 400 for an unknown tab. Failures can be injected.
 * It does not evaluate formulas: a `USER_ENTERED` text starting with `=` is marked `formula`.
 * Like Google, it gzips its answers for a client that sends `Accept-Encoding: gzip`.
 *
 * @example
 * const google = await startFakeSheets({ tokens: ['ya29.a'] });
 * google.addSpreadsheet('sheet-1', ['Sheet1']);
 * // hub env: { GOOGLE_API_ROOT_URL: google.url }
 */
export interface FakeSheets {
  /** The root URL, for `GOOGLE_API_ROOT_URL` (with a trailing slash). */
  url: string;
  requests: SheetsRequest[];
  addSpreadsheet(id: string, sheets?: string[]): void;
  acceptToken(token: string): void;
  revokeToken(token: string): void;
  /** The cells of a tab as stored, row by row (trailing blanks trimmed). */
  cells(spreadsheetId: string, sheet: string): Cell[][];
  /** What the tab shows (FORMATTED_VALUE), row by row. */
  shown(spreadsheetId: string, sheet: string): string[][];
  /** Fills a tab with rows as if typed in (USER_ENTERED), from A1. */
  seed(spreadsheetId: string, sheet: string, rows: unknown[][]): void;
  /** Queues an injected failure; rules are used in order, each `times` times. */
  fail(rule: FailureRule): void;
  /** Drops every queued failure. */
  clearFailures(): void;
  close(): Promise<void>;
}

export interface SheetsRequest {
  method: string;
  /** `get`, `update` or `append`. */
  kind: string;
  spreadsheetId: string;
  range: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface Cell {
  /** Exactly what the API received. */
  entered: string | number | boolean;
  shown: string;
  /** A USER_ENTERED text starting with `=`: Sheets would evaluate it. */
  formula: boolean;
}

export interface FailureRule {
  /** The status to answer; without one the call is answered normally (after `delayMs`). */
  status?: number;
  /** Which calls it hits (default: any). */
  kind?: 'get' | 'update' | 'append';
  times?: number;
  headers?: Record<string, string>;
  /** Default: Google's error JSON for the status. */
  body?: unknown;
  /** Carry the call out first, then answer the failure (a write whose answer was lost). */
  afterApplying?: boolean;
  /** Answer this late (e.g. past the attempt timeout). */
  delayMs?: number;
  /** Never answer at all (the connection stays open until `close`). */
  hang?: boolean;
}

export interface FakeSheetsOptions {
  tokens?: string[];
  /** A path before `/v4/...`, as behind a proxy: the root URL becomes `http://127.0.0.1:<port>/<basePath>/`. */
  basePath?: string;
  /** Accept any bearer token, and treat an unknown spreadsheet as a new one with `Sheet1` (contract runs). */
  lenient?: boolean;
}

type Grid = (Cell | undefined)[][];

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

const UNAUTHENTICATED =
  'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const googleError = (status: number, message: string) => ({
  error: { code: status, message, status: STATUS_NAMES[status] ?? 'UNKNOWN' },
});

/** Starts the fake on 127.0.0.1 with a random port. */
export async function startFakeSheets(options: FakeSheetsOptions = {}): Promise<FakeSheets> {
  const basePath = (options.basePath ?? '').replace(/\/+$/, '');
  const tokens = new Set(options.tokens ?? []);
  const books = new Map<string, Map<string, Grid>>();
  const requests: SheetsRequest[] = [];
  const failures: (FailureRule & { left: number })[] = [];

  const tab = (spreadsheetId: string, name: string, range = name): Grid => {
    if (options.lenient && !books.has(spreadsheetId))
      books.set(spreadsheetId, new Map([['Sheet1', []]]));
    const book = books.get(spreadsheetId);
    if (!book) throw new ApiError(404, 'Requested entity was not found.');
    const grid = book.get(name);
    if (!grid) throw new ApiError(400, `Unable to parse range: ${range}`);
    return grid;
  };

  const handle = (call: SheetsRequest): unknown => {
    const range = parseRange(call.range);
    const grid = tab(call.spreadsheetId, range.sheet, call.range);
    if (call.kind === 'get')
      return readRange(grid, range, call.query.majorDimension === 'COLUMNS' ? 'COLUMNS' : 'ROWS');
    const input = call.query.valueInputOption;
    if (input !== 'RAW' && input !== 'USER_ENTERED')
      throw new ApiError(400, "'valueInputOption' is required but not specified");
    const values = (call.body as { values?: unknown[][] } | undefined)?.values ?? [];
    if (call.kind === 'update') {
      const updatedRange = write(grid, range.sheet, range.startRow, range.startCol, values, input);
      return { spreadsheetId: call.spreadsheetId, ...updatedRange };
    }
    const table = usedRows(grid);
    const updates = write(grid, range.sheet, table + 1, range.startCol, values, input);
    return {
      spreadsheetId: call.spreadsheetId,
      ...(table > 0
        ? { tableRange: `${a1Sheet(range.sheet)}!A1:${letters(width(grid) - 1)}${table}` }
        : {}),
      updates: { spreadsheetId: call.spreadsheetId, ...updates },
    };
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://sheets.local');
      const path = url.pathname.startsWith(`${basePath}/`)
        ? url.pathname.slice(basePath.length)
        : '';
      const match = /^\/v4\/spreadsheets\/([^/]+)\/values\/([^/]+?)(:append)?$/.exec(path);
      if (!match?.[1] || !match[2])
        return send(req, res, 404, googleError(404, 'Method not found.'));
      const kind = match[3] ? 'append' : req.method === 'PUT' ? 'update' : 'get';
      const text = Buffer.concat(chunks).toString();
      const call: SheetsRequest = {
        method: req.method ?? '',
        kind,
        spreadsheetId: decodeURIComponent(match[1]),
        range: decodeURIComponent(match[2]),
        query: Object.fromEntries(url.searchParams.entries()),
        headers: req.headers,
        body: text ? (JSON.parse(text) as unknown) : undefined,
      };
      requests.push(call);
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!token || !(options.lenient || tokens.has(token)))
        return send(req, res, 401, googleError(401, UNAUTHENTICATED));
      const rule = failures.find((f) => f.left > 0 && (!f.kind || f.kind === kind));
      if (rule) rule.left -= 1;
      if (rule?.hang) return;
      const answer = () => {
        if (res.destroyed) return;
        try {
          if (rule?.status && !rule.afterApplying) return sendFailure(req, res, rule, rule.status);
          const result = handle(call);
          if (rule?.status) return sendFailure(req, res, rule, rule.status);
          send(req, res, 200, result);
        } catch (error) {
          if (!(error instanceof ApiError)) throw error;
          send(req, res, error.status, googleError(error.status, error.message));
        }
      };
      if (rule?.delayMs) setTimeout(answer, rule.delayMs).unref();
      else answer();
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}${basePath}/`,
    requests,
    addSpreadsheet(id, sheets = ['Sheet1']) {
      books.set(id, new Map(sheets.map((name) => [name, []])));
    },
    acceptToken: (token) => void tokens.add(token),
    revokeToken: (token) => void tokens.delete(token),
    cells: (id, sheet) =>
      tab(id, sheet).map((row) =>
        trimRow(row).map((c) => c ?? { entered: '', shown: '', formula: false }),
      ),
    shown: (id, sheet) => tab(id, sheet).map((row) => trimRow(row).map((c) => c?.shown ?? '')),
    seed(id, sheet, rows) {
      const grid = tab(id, sheet);
      rows.forEach((row, r) => (grid[r] = row.map((value) => toCell(value, 'USER_ENTERED'))));
    },
    fail: (rule) => void failures.push({ ...rule, left: rule.times ?? 1 }),
    clearFailures: () => void failures.splice(0),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const json = Buffer.from(JSON.stringify(body));
  const gzip = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
  res.writeHead(status, {
    'content-type': 'application/json; charset=UTF-8',
    ...(gzip ? { 'content-encoding': 'gzip', vary: 'Origin, X-Origin, Referer' } : {}),
    ...headers,
  });
  res.end(gzip ? gzipSync(json) : json);
}

function sendFailure(
  req: IncomingMessage,
  res: ServerResponse,
  rule: FailureRule,
  status: number,
): void {
  send(
    req,
    res,
    status,
    rule.body ?? googleError(status, `injected failure ${status}`),
    rule.headers,
  );
}

/** A parsed A1 range; rows and columns 1- and 0-based, open ends as Infinity. */
interface Range {
  sheet: string;
  startRow: number;
  endRow: number;
  startCol: number;
  endCol: number;
}

/** `'Sheet 1'!A1`, `Sheet1!1:1`, `'x'!C2:C`, `A1:D1` or a bare tab name. */
export function parseRange(text: string): Range {
  const quoted = /^'((?:[^']|'')*)'(?:!(.*))?$/.exec(text);
  const plain = quoted ? undefined : /^([^!]*)(?:!(.*))?$/.exec(text);
  const sheet = quoted ? (quoted[1] ?? '').replace(/''/g, "'") : (plain?.[1] ?? '');
  const cells = (quoted ? quoted[2] : plain?.[2]) ?? '';
  const all = { sheet, startRow: 1, endRow: Infinity, startCol: 0, endCol: Infinity };
  if (cells === '') return all;
  const m = /^([A-Z]*)(\d*)(?::([A-Z]*)(\d*))?$/.exec(cells);
  if (!m || (m[1] === '' && m[2] === '')) throw new ApiError(400, `Unable to parse range: ${text}`);
  const [, c1 = '', r1 = '', c2, r2] = m;
  const single = c2 === undefined;
  return {
    sheet,
    startCol: c1 ? column(c1) : 0,
    startRow: r1 ? Number(r1) : 1,
    endCol: single
      ? c1
        ? column(c1)
        : Infinity
      : c2
        ? column(c2)
        : c1 && !r1
          ? column(c1)
          : Infinity,
    endRow: single ? (r1 ? Number(r1) : Infinity) : r2 ? Number(r2) : Infinity,
  };
}

function column(letters: string): number {
  return [...letters].reduce((n, ch) => n * 26 + ch.charCodeAt(0) - 64, 0) - 1;
}

function letters(index: number): string {
  let out = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26))
    out = String.fromCharCode(65 + ((n - 1) % 26)) + out;
  return out;
}

/** How Google writes a tab name in the ranges it answers. */
function a1Sheet(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `'${name.replace(/'/g, "''")}'`;
}

function trimRow(row: (Cell | undefined)[]): (Cell | undefined)[] {
  let end = row.length;
  while (end > 0 && (row[end - 1]?.shown ?? '') === '') end -= 1;
  return row.slice(0, end);
}

/** The number of rows down to the last one with anything in it. */
function usedRows(grid: Grid): number {
  let end = grid.length;
  while (end > 0 && trimRow(grid[end - 1] ?? []).length === 0) end -= 1;
  return end;
}

function width(grid: Grid): number {
  return Math.max(1, ...grid.map((row) => trimRow(row).length));
}

/** A value as Sheets stores it under `RAW` or `USER_ENTERED` (the parts the tests need). */
function toCell(value: unknown, input: 'RAW' | 'USER_ENTERED'): Cell {
  const entered =
    typeof value === 'number' || typeof value === 'boolean'
      ? value
      : value == null
        ? ''
        : String(value);
  if (typeof entered === 'boolean')
    return { entered, shown: entered ? 'TRUE' : 'FALSE', formula: false };
  if (typeof entered === 'number' || input === 'RAW')
    return { entered, shown: String(entered), formula: false };
  if (entered.startsWith("'")) return { entered, shown: entered.slice(1), formula: false };
  return { entered, shown: entered, formula: entered.startsWith('=') };
}

function write(
  grid: Grid,
  sheet: string,
  row: number,
  col: number,
  values: unknown[][],
  input: 'RAW' | 'USER_ENTERED',
) {
  values.forEach((cells, i) => {
    const target = (grid[row - 1 + i] ??= []);
    cells.forEach((value, j) => (target[col + j] = toCell(value, input)));
  });
  const columns = Math.max(0, ...values.map((r) => r.length));
  const end = `${letters(col + Math.max(columns, 1) - 1)}${row + Math.max(values.length, 1) - 1}`;
  return {
    updatedRange: `${a1Sheet(sheet)}!${letters(col)}${row}:${end}`,
    updatedRows: values.length,
    updatedColumns: columns,
    updatedCells: values.reduce((n, r) => n + r.length, 0),
  };
}

/** A ValueRange of what the range shows, trailing blank rows and cells left out. */
function readRange(grid: Grid, range: Range, majorDimension: 'ROWS' | 'COLUMNS') {
  const lastRow = Math.min(range.endRow, usedRows(grid));
  const rows: string[][] = [];
  for (let r = range.startRow; r <= lastRow; r += 1) {
    const row = trimRow(grid[r - 1] ?? []);
    const end = Math.min(range.endCol + 1, row.length);
    rows.push(
      Array.from(
        { length: Math.max(0, end - range.startCol) },
        (_, c) => row[range.startCol + c]?.shown ?? '',
      ),
    );
  }
  while (rows.length > 0 && (rows[rows.length - 1] ?? []).length === 0) rows.pop();
  const values = majorDimension === 'ROWS' ? rows : transpose(rows);
  const endCol = Number.isFinite(range.endCol) ? range.endCol : 25;
  const endRow = Number.isFinite(range.endRow) ? range.endRow : 1000;
  const a1 = `${a1Sheet(range.sheet)}!${letters(range.startCol)}${range.startRow}:${letters(endCol)}${endRow}`;
  return { range: a1, majorDimension, ...(values.length > 0 ? { values } : {}) };
}

function transpose(rows: string[][]): string[][] {
  const width = Math.max(0, ...rows.map((r) => r.length));
  const columns = Array.from({ length: width }, (_, c) => rows.map((row) => row[c] ?? ''));
  return columns.map((col) => {
    let end = col.length;
    while (end > 0 && col[end - 1] === '') end -= 1;
    return col.slice(0, end);
  });
}

/**
 * The fake for the shared connector contract (test/contract): any token and spreadsheet are
 * accepted, and each {@link FakeAnswer} is answered the way Google does: `4xx` a 400
 * INVALID_ARGUMENT, `429` RESOURCE_EXHAUSTED with `Retry-After`, `5xx` a 503 UNAVAILABLE.
 */
export async function contractFake(): Promise<ServiceFake> {
  const google = await startFakeSheets({ lenient: true });
  const forever = Number.POSITIVE_INFINITY;
  const rules: Record<Exclude<FakeAnswer, 'ok'>, FailureRule> = {
    '4xx': {
      status: 400,
      times: forever,
      body: googleError(400, 'Invalid requests[0]: the range is not valid.'),
    },
    '429': { status: 429, times: forever, headers: { 'retry-after': '30' } },
    '5xx': {
      status: 503,
      times: forever,
      body: googleError(503, 'The service is currently unavailable.'),
    },
    hang: { hang: true, times: forever },
  };
  return {
    baseUrl: google.url.replace(/\/$/, ''),
    respondWith(answer) {
      google.clearFailures();
      if (answer !== 'ok') google.fail(rules[answer]);
    },
    received: () => google.requests.length,
    close: () => google.close(),
  };
}
