/**
 * How a response becomes a spreadsheet row. Pure helpers: no I/O.
 */

/** One mapped column: its header text and the flattened response key it shows. */
export interface ColumnMapping {
  header: string;
  /** A data key, a calculated field, or `id` / `form_id` / `submitted_at`. */
  field: string;
}

/** What a cell is sent as: numbers stay numbers, everything else is text. */
export type CellValue = string | number;

/**
 * Text that Sheets would not keep as typed under `USER_ENTERED`: a leading `= + - @` makes
 * a formula (formula injection: `=IMPORTXML(...)` in an answer would run in the sheet),
 * a leading `'` would be eaten as the "this is text" marker, and a leading tab or carriage
 * return is refused for the same reason as in CSV exports.
 */
const NEEDS_QUOTE = /^[=+\-@'\t\r]/;

/**
 * Makes a text cell literal: Sheets shows `'=1+1` as the text `=1+1`, never evaluates it.
 *
 * @example neutralizeFormula('=HYPERLINK("http://x")'); // '\'=HYPERLINK("http://x")'
 */
export function neutralizeFormula(text: string): string {
  return NEEDS_QUOTE.test(text) ? `'${text}` : text;
}

/** An element of a multi-value answer as text. */
function plainText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * One answer as a cell: missing and null are empty, booleans `TRUE`/`FALSE` (which Sheets
 * reads as booleans), finite numbers as numbers, arrays joined with `, `, objects as JSON;
 * all text is passed through {@link neutralizeFormula}.
 *
 * @example cellValue(['IT', 'HR']); // 'IT, HR'
 * @example cellValue(true); // 'TRUE'
 */
export function cellValue(value: unknown): CellValue {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'number') return Number.isFinite(value) ? value : '';
  if (Array.isArray(value)) return neutralizeFormula(value.map(plainText).join(', '));
  return neutralizeFormula(plainText(value));
}

/**
 * The row of one response, in mapping order, from its flattened form (`flattenResponse`).
 *
 * @example rowFor([{ header: 'Name', field: 'name' }], { id: 'r1', name: 'Ada' }); // ['Ada']
 */
export function rowFor(
  columns: readonly ColumnMapping[],
  flat: Readonly<Record<string, unknown>>,
): CellValue[] {
  return columns.map((column) =>
    cellValue(Object.hasOwn(flat, column.field) ? flat[column.field] : undefined),
  );
}

/** The header row: the mapping's header texts (written with `RAW`, so never evaluated). */
export function headerRow(columns: readonly ColumnMapping[]): string[] {
  return columns.map((column) => column.header);
}

/** Whether a row read back from the sheet has nothing in it. */
export function isBlankRow(row: readonly unknown[] | undefined): boolean {
  return !row || row.every((cell) => cell === null || cell === undefined || cell === '');
}
