import { auth, sheets, type MethodOptions, type sheets_v4 } from '@googleapis/sheets';
import { RetryableError, type HttpClient, type PluginLogger } from '@formhub/sdk';
import { sheetRanges } from './a1.ts';
import { headerRow, isBlankRow, type CellValue, type ColumnMapping } from './cells.ts';
import { fetchThrough } from './hub-fetch.ts';

/** Where the Sheets API lives unless the hub says otherwise (GOOGLE_API_ROOT_URL). */
export const DEFAULT_ROOT_URL = 'https://sheets.googleapis.com/';

/**
 * A backstop per request; the attempt's own deadline (`ctx.signal`, WEBHOOK_TIMEOUT_MS)
 * normally ends a slow call first.
 */
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Rows of the `id` column read per request: about 160 KB of JSON for UUIDs, under the
 * 256 KB of an answer that the hub's HTTP client keeps.
 */
export const ID_PAGE_ROWS = 4_000;

/** How to reach the Sheets API for one attempt. */
export interface SheetsTransport {
  accessToken: string;
  rootUrl: string;
  signal: AbortSignal;
  http: HttpClient;
}

/**
 * A Sheets v4 client for one access token, sending through the hub's HTTP client. The root
 * URL is given both to the client and to every call: the client alone keeps only the
 * origin (a root URL with a path such as `http://proxy/google/` would lose `/google`).
 * Every call has the client's own retries off (`retry: false`), so that only the delivery
 * engine retries and the attempt log stays true.
 */
export function openSheets(transport: SheetsTransport): {
  api: sheets_v4.Sheets;
  options: MethodOptions;
} {
  const client = new auth.OAuth2();
  client.setCredentials({ access_token: transport.accessToken });
  const api = sheets({ version: 'v4', auth: client, rootUrl: transport.rootUrl });
  const options: MethodOptions = {
    rootUrl: transport.rootUrl,
    retry: false,
    signal: transport.signal,
    timeout: REQUEST_TIMEOUT_MS,
    fetchImplementation: fetchThrough(transport.http),
  };
  return { api, options };
}

/** One row to append, and how to recognise it if it is already there. */
export interface AppendPlan {
  spreadsheetId: string;
  sheet: string;
  columns: readonly ColumnMapping[];
  row: CellValue[];
  /** When set, look for this value in the mapping's `id` column first and skip if found. */
  dedupe?: { responseId: string };
}

/** What happened: the range written, or that the row was already there. */
export type AppendResult =
  { appended: true; updatedRange: string | undefined } | { appended: false; foundInRow: number };

/**
 * Appends one response's row: reads row 1 and writes the header there if it is blank
 * (`values.update`, `RAW`: concurrent first deliveries write the same header to the same
 * cells instead of two header rows), then, when asked, skips a row whose response id is
 * already in the `id` column, then `values.append` (`USER_ENTERED`, `INSERT_ROWS`).
 */
export async function appendRow(
  api: sheets_v4.Sheets,
  options: MethodOptions,
  plan: AppendPlan,
  logger: PluginLogger,
): Promise<AppendResult> {
  const { spreadsheetId, sheet, columns } = plan;
  const ranges = sheetRanges(sheet);
  const header = headerRow(columns);
  const firstRow = await readHeader(api, options, spreadsheetId, sheet);
  if (isBlankRow(firstRow)) {
    await api.spreadsheets.values.update(
      {
        spreadsheetId,
        range: ranges.header(header.length),
        valueInputOption: 'RAW',
        requestBody: { values: [header] },
      },
      options,
    );
  } else {
    if (!sameHeader(firstRow, header)) {
      logger.warn('the sheet header differs from the column mapping; rows follow the mapping', {
        found: firstRow,
        expected: header,
      });
    }
    if (plan.dedupe) {
      const foundInRow = await findResponseRow(api, options, plan, firstRow);
      if (foundInRow !== undefined) return { appended: false, foundInRow };
    }
  }
  const res = await api.spreadsheets.values.append(
    {
      spreadsheetId,
      range: ranges.table,
      valueInputOption: 'USER_ENTERED',
      insertDataOption: 'INSERT_ROWS',
      requestBody: { majorDimension: 'ROWS', values: [plan.row] },
    },
    options,
  );
  return { appended: true, updatedRange: res.data.updates?.updatedRange ?? undefined };
}

/** Reads only the header row; a cheap call that proves the token, spreadsheet and sheet. */
export async function readHeader(
  api: sheets_v4.Sheets,
  options: MethodOptions,
  spreadsheetId: string,
  sheet: string,
): Promise<unknown[]> {
  const range = sheetRanges(sheet).headerRow;
  const res = await api.spreadsheets.values.get(
    { spreadsheetId, range, majorDimension: 'ROWS' },
    options,
  );
  return valuesOf(res.data, range)[0] ?? [];
}

/**
 * The sheet row (1-based) holding this response id in the `id` column, if any. The column
 * is found by its header in row 1 (so a column moved in the sheet is still found), else by
 * its position in the mapping. Reads the column below the header in pages of
 * {@link ID_PAGE_ROWS}, until a page comes back short: made only on retries and replays.
 */
async function findResponseRow(
  api: sheets_v4.Sheets,
  options: MethodOptions,
  plan: AppendPlan,
  firstRow: readonly unknown[],
): Promise<number | undefined> {
  const mapped = plan.columns.findIndex((column) => column.field === 'id');
  if (mapped < 0 || !plan.dedupe) return undefined;
  const byHeader = firstRow.indexOf(plan.columns[mapped]?.header);
  const index = byHeader >= 0 ? byHeader : mapped;
  const ranges = sheetRanges(plan.sheet);
  for (let start = 2; ; start += ID_PAGE_ROWS) {
    const range = ranges.columnPage(index, start, ID_PAGE_ROWS);
    const res = await api.spreadsheets.values.get(
      { spreadsheetId: plan.spreadsheetId, range, majorDimension: 'COLUMNS' },
      options,
    );
    const ids = valuesOf(res.data, range)[0] ?? [];
    const at = ids.indexOf(plan.dedupe.responseId);
    if (at >= 0) return start + at;
    if (ids.length < ID_PAGE_ROWS) return undefined;
  }
}

/**
 * The `values` of a ValueRange (Google leaves them out for an empty range). An answer that
 * is not JSON (cut short on the way) must not pass for "empty": that would append twice.
 */
function valuesOf(data: unknown, range: string): unknown[][] {
  if (typeof data !== 'object' || data === null) {
    throw new RetryableError(`Google Sheets' answer for ${range} could not be read as JSON`);
  }
  return ((data as sheets_v4.Schema$ValueRange).values as unknown[][] | undefined) ?? [];
}

function sameHeader(found: readonly unknown[], expected: readonly string[]): boolean {
  return expected.every((text, i) => found[i] === text);
}
