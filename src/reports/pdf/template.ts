import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import defaultTemplateJson from '../../../templates/reports/default.json' with { type: 'json' };

const color = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'a colour is #rrggbb');
const size = z.number().positive().max(200);
const margin = z.number().min(0).max(300);

/**
 * A report template: layout, colours, fonts and every piece of wording. A template file may
 * give only the keys it changes; the rest come from `templates/reports/default.json`.
 */
const templateSchema = z.object({
  page: z.object({
    size: z.string().min(1),
    margins: z.object({ top: margin, bottom: margin, left: margin, right: margin }),
  }),
  fonts: z.object({
    /** TTF/OTF candidates, the first that exists is embedded; none -> built-in Helvetica. */
    regular: z.array(z.string().min(1)),
    bold: z.array(z.string().min(1)),
    sizes: z.object({
      title: size,
      subtitle: size,
      heading: size,
      chart_title: size,
      body: size,
      small: size,
    }),
  }),
  colors: z.object({
    accent: color,
    text: color,
    muted: color,
    grid: color,
    axis: color,
    block_rule: color,
  }),
  locale: z.string().min(2),
  time_zone: z.string().min(1),
  header: z.string(),
  footer: z.string(),
  labels: z.object({
    report_title: z.string(),
    responses: z.string(),
    completed: z.string(),
    partial: z.string(),
    period: z.string(),
    all_time: z.string(),
    since: z.string(),
    until: z.string(),
    generated: z.string(),
    prepared_for: z.string(),
    summary: z.string(),
    daily_submissions: z.string(),
    answered: z.string(),
    no_data: z.string(),
    responses_heading: z.string(),
    response: z.string(),
    submitted: z.string(),
    yes: z.string(),
    no: z.string(),
    empty: z.string(),
    list_separator: z.string(),
    /** Appended to an answer cut at `PDF_VALUE_CHARS` characters; `{more}` is how many were left out. */
    truncated: z
      .string()
      .default(' … [{more} more characters: the CSV, JSON or XLSX export has the full text]'),
  }),
  charts: z.object({
    daily: z.enum(['auto', 'bar', 'line']),
    line_when_days_over: z.number().int().min(1),
    height: z.number().min(60).max(600),
    max_options: z.number().int().min(1).max(100),
  }),
  responses: z.object({
    label_width: z.number().min(0.1).max(0.7),
    row_gap: z.number().min(0).max(50),
    block_gap: z.number().min(0).max(100),
  }),
});

export type ReportTemplate = z.infer<typeof templateSchema>;

/** The template every other one is merged onto. */
export const DEFAULT_TEMPLATE: ReportTemplate = Object.freeze(
  templateSchema.parse(defaultTemplateJson),
);

/** Where the named templates live (`templates/reports/<name>.json`). */
export const TEMPLATES_DIR = fileURLToPath(new URL('../../../templates/reports/', import.meta.url));

/** Thrown when a template is not valid JSON or does not match the schema; `issues` say where. */
export class ReportTemplateError extends Error {
  constructor(
    message: string,
    readonly issues: string[] = [],
  ) {
    super(issues.length > 0 ? `${message}: ${issues.join('; ')}` : message);
    this.name = 'ReportTemplateError';
  }
}

/**
 * Validates a parsed template (a partial one is completed from the default) and returns it.
 * Relative font paths are resolved against `baseDir` when given.
 */
export function parseReportTemplate(value: unknown, baseDir?: string): ReportTemplate {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ReportTemplateError('A report template is a JSON object');
  }
  const merged = deepMerge(DEFAULT_TEMPLATE, value as Record<string, unknown>);
  const result = templateSchema.safeParse(merged);
  if (!result.success) {
    throw new ReportTemplateError(
      'Invalid report template',
      result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  if (baseDir === undefined) return result.data;
  const fonts = result.data.fonts;
  const absolute = (paths: string[]) => paths.map((p) => (isAbsolute(p) ? p : resolve(baseDir, p)));
  return {
    ...result.data,
    fonts: { ...fonts, regular: absolute(fonts.regular), bold: absolute(fonts.bold) },
  };
}

/**
 * Loads `templates/reports/<name>.json` (a bare name) or a template file at a path.
 * @example const template = await loadReportTemplate('default');
 */
export async function loadReportTemplate(nameOrPath = 'default'): Promise<ReportTemplate> {
  const isName = /^[A-Za-z0-9_-]+$/.test(nameOrPath);
  const file = isName ? join(TEMPLATES_DIR, `${nameOrPath}.json`) : resolve(nameOrPath);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new ReportTemplateError(`Report template not found: ${file}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ReportTemplateError(
      `Report template ${file} is not valid JSON (${(err as Error).message})`,
    );
  }
  return parseReportTemplate(json, dirname(file));
}

/** Replaces `{name}` placeholders with `values[name]`; unknown placeholders stay as they are. */
export function fillPlaceholders(text: string, values: Record<string, string | number>): string {
  return text.replace(/\{([a-z_]+)\}/g, (whole, key: string) =>
    key in values ? String(values[key]) : whole,
  );
}

function deepMerge(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override))
    return override === undefined ? base : override;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) out[key] = deepMerge(base[key], value);
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
