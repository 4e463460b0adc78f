/**
 * A1 notation for the ranges the connector reads and writes. Pure helpers: no I/O.
 * https://developers.google.com/sheets/api/guides/concepts#cell
 */

/**
 * A sheet (tab) name as a range prefix: always single-quoted, inner quotes doubled, so
 * names with spaces, `!`, quotes or that look like cell references are all safe.
 *
 * @example quoteSheetName("Bob's Sheet"); // "'Bob''s Sheet'"
 */
export function quoteSheetName(sheet: string): string {
  return `'${sheet.replace(/'/g, "''")}'`;
}

/**
 * The letters of a 0-based column index.
 *
 * @example columnLetters(0); // 'A'
 * @example columnLetters(27); // 'AB'
 */
export function columnLetters(index: number): string {
  if (!Number.isInteger(index) || index < 0) throw new RangeError(`bad column index ${index}`);
  let letters = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) {
    letters = String.fromCharCode(65 + ((n - 1) % 26)) + letters;
  }
  return letters;
}

/** The ranges of one sheet that the connector uses. */
export interface SheetRanges {
  /** Where appends start: the table is found from A1. */
  table: string;
  /** Row 1, to see whether the header is there. */
  headerRow: string;
  /** Row 1 from A to the last mapped column, to write the header. */
  header: (columnCount: number) => string;
  /** `count` cells of one column from row `firstRow` (the `id` column, read in pages). */
  columnPage: (index: number, firstRow: number, count: number) => string;
}

/**
 * The ranges of a sheet.
 *
 * @example sheetRanges('Sheet 1').headerRow; // "'Sheet 1'!1:1"
 */
export function sheetRanges(sheet: string): SheetRanges {
  const prefix = quoteSheetName(sheet);
  return {
    table: `${prefix}!A1`,
    headerRow: `${prefix}!1:1`,
    header: (count) => `${prefix}!A1:${columnLetters(Math.max(count, 1) - 1)}1`,
    columnPage: (index, firstRow, count) => {
      const letters = columnLetters(index);
      return `${prefix}!${letters}${firstRow}:${letters}${firstRow + count - 1}`;
    },
  };
}
