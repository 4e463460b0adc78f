/** One import row may be at most 1 MiB of UTF-8 (DESIGN.md 3a). */
export const MAX_ROW_BYTES = 1024 * 1024;

/**
 * The text of one unfinished import row, kept across chunks. It counts bytes as they come
 * and fails the moment the row passes MAX_ROW_BYTES, so a 560 MiB line costs at most 1 MiB
 * of memory (it used to be buffered whole, then parsed: 1.8 GB and a crash).
 */
export class RowBuffer {
  private parts: string[] = [];
  private bytes = 0;

  /** `tooLarge` makes the error to throw, naming the row (and line) being read. */
  constructor(private readonly tooLarge: () => Error) {}

  /** Adds text from the middle of a row. */
  push(text: string): void {
    if (text.length === 0) return;
    this.bytes += Buffer.byteLength(text);
    if (this.bytes > MAX_ROW_BYTES) throw this.tooLarge();
    this.parts.push(text);
  }

  /** The whole row, ending with `tail`; the buffer is then empty for the next row. */
  take(tail: string): string {
    this.push(tail);
    const text = this.parts.length === 1 ? (this.parts[0] as string) : this.parts.join('');
    this.parts = [];
    this.bytes = 0;
    return text;
  }

  /** Whether every part kept so far passes `test`. */
  every(test: (part: string) => boolean): boolean {
    return this.parts.every(test);
  }

  get empty(): boolean {
    return this.parts.length === 0;
  }
}
