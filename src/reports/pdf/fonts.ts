import { existsSync } from 'node:fs';

/** The fonts a report is set in, and how text must be prepared for them. */
export interface ReportFonts {
  /** A file path (embedded, subset) or a built-in PDF font name. */
  regular: string;
  bold: string;
  /** True when falling back to built-in Helvetica, which only covers Latin-1 (WinAnsi). */
  builtin: boolean;
  /** Makes text safe for the font: identity for embedded fonts, Latin-1 replacement otherwise. */
  prepare: (text: string) => string;
}

/**
 * Picks the first existing file of each candidate list. If no regular font exists, falls back to
 * pdfkit's built-in Helvetica and replaces characters it cannot show (see `toLatin1`).
 */
export function resolveFonts(
  regular: readonly string[],
  bold: readonly string[],
  exists = existsSync,
): ReportFonts {
  const reg = regular.find((p) => exists(p));
  if (reg === undefined) {
    return { regular: 'Helvetica', bold: 'Helvetica-Bold', builtin: true, prepare: toLatin1 };
  }
  const b = bold.find((p) => exists(p)) ?? reg;
  return { regular: reg, bold: b, builtin: false, prepare: (text) => text };
}

/** Typographic characters outside Latin-1 that WinAnsi still encodes (pdfkit maps them). */
const WIN_ANSI_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');

/**
 * For the built-in fonts: keeps Latin-1 and WinAnsi characters, strips accents from other
 * Latin letters (ő -> o), and replaces everything else (Cyrillic, CJK, emoji) with "?".
 */
export function toLatin1(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (code <= 0xff || WIN_ANSI_EXTRA.has(ch)) {
      out += ch;
      continue;
    }
    const base = ch.normalize('NFD').replace(/\p{M}+/gu, '');
    out += base.length > 0 && [...base].every((c) => (c.codePointAt(0) ?? 0) <= 0xff) ? base : '?';
  }
  return out;
}
