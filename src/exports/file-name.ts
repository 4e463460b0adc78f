/**
 * File names of exports, pure: `<slug-of-title>-<yyyy-mm-dd>.<ext>`, and the
 * `Content-Disposition` header that carries one (RFC 6266, with `filename*` (RFC 8187)
 * when the title is not plain ASCII).
 */

/** The title as a file-name slug: lower case, runs of anything but letters and digits become `-`. */
export function slugify(title: string, asciiOnly: boolean): string {
  const base = asciiOnly
    ? title.normalize('NFKD').replace(/[\u0300-\u036f]/g, '')
    : title.normalize('NFC');
  const pattern = asciiOnly ? /[^a-z0-9]+/g : /[^\p{L}\p{N}]+/gu;
  return base
    .toLowerCase()
    .replace(pattern, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80)
    .replace(/-+$/, '');
}

/**
 * The export file name for a form title on a day (UTC).
 *
 * @example exportFileName('Customer survey', new Date('2025-03-01'), 'csv') // 'customer-survey-2025-03-01.csv'
 */
export function exportFileName(title: string, at: Date, extension: string): string {
  const slug = slugify(title, false) || 'export';
  return `${slug}-${at.toISOString().slice(0, 10)}.${extension}`;
}

/**
 * `attachment; filename="..."` with an ASCII fallback name, plus `filename*=UTF-8''...` when
 * the name is not plain ASCII.
 *
 * @example contentDisposition('umfrage-müller-2025-03-01.csv')
 * // `attachment; filename="umfrage-muller-2025-03-01.csv"; filename*=UTF-8''umfrage-m%C3%BCller-2025-03-01.csv`
 */
export function contentDisposition(fileName: string): string {
  if (/^[\x20-\x7e]*$/.test(fileName))
    return `attachment; filename="${fileName.replace(/["\\]/g, '_')}"`;
  const dot = fileName.lastIndexOf('.');
  const stem = dot > 0 ? fileName.slice(0, dot) : fileName;
  const extension = dot > 0 ? fileName.slice(dot) : '';
  const fallback = `${slugify(stem, true) || 'export'}${extension}`;
  const encoded = encodeURIComponent(fileName).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
