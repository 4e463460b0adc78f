import Mustache from 'mustache';
import type { RenderOptions, TemplateSpans } from 'mustache';
import {
  MeteredWriter,
  sectionDepth,
  TEMPLATE_LIMITS,
  templateSizeProblem,
} from './template-limits.ts';

/**
 * What a template is rendered over: `{event, form, response, data}` (DESIGN.md,
 * Webhooks). Any object, so interface-typed views need no index signature.
 */
export type TemplateView = object;

/** One problem in a template: where (`body.text`, `items[0]`) and what. */
export interface TemplateIssue {
  path: string;
  message: string;
}

/** A template string that mustache cannot parse; `path` says where it sits. */
export class TemplateError extends Error {
  constructor(
    readonly path: string,
    message: string,
    readonly issues: readonly TemplateIssue[] = [{ path, message }],
  ) {
    super(path === '' ? message : `${path}: ${message}`);
    this.name = 'TemplateError';
  }
}

/** A template parsed once, ready to render many views. */
export interface CompiledTemplate {
  /** The JSON value of the template over `view`; the view itself is not copied. */
  render(view: TemplateView): unknown;
}

/** Renders one node of the template against a shared mustache context. */
type NodeRenderer = (context: Mustache.Context) => unknown;

/**
 * No HTML escaping: webhook bodies are JSON, not HTML. Values are stringified as
 * mustache itself does (`String(value)`); the global `Mustache.escape` is untouched.
 */
const RENDER_OPTIONS: RenderOptions = { escape: (value: unknown) => String(value) };

/** Tags that stand for a value: `{{name}}`, `{{{name}}}` and `{{& name}}`. */
const VALUE_TAGS = new Set(['name', '&']);

/** Appends an object key or an array index to a path. */
function child(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** Compiles one string: a lone value tag keeps its JSON type, anything else renders to a string. */
function compileString(
  source: string,
  path: string,
  writer: MeteredWriter,
  issues: TemplateIssue[],
): NodeRenderer {
  let tokens: TemplateSpans;
  try {
    // The writer is this template's own, so its token cache dies with it.
    tokens = writer.parse(source) as TemplateSpans;
  } catch (error) {
    issues.push({ path, message: error instanceof Error ? error.message : String(error) });
    return () => null;
  }
  if (sectionDepth(tokens) > TEMPLATE_LIMITS.maxSectionDepth) {
    issues.push({
      path,
      message: `must not nest more than ${TEMPLATE_LIMITS.maxSectionDepth} sections`,
    });
    return () => null;
  }
  const only = tokens.length === 1 ? tokens[0] : undefined;
  if (only !== undefined && VALUE_TAGS.has(only[0])) {
    const name = only[1];
    return (context) => context.lookup(name) ?? null;
  }
  const spans = tokens as unknown as string[][];
  return (context) => writer.renderTokens(spans, context, undefined, source, RENDER_OPTIONS);
}

/** Whether a value is a plain JSON object (not an array, date, map...). */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Compiles any JSON node, recording parse problems in `issues`. */
function compileNode(
  value: unknown,
  path: string,
  writer: MeteredWriter,
  issues: TemplateIssue[],
): NodeRenderer {
  if (typeof value === 'string') return compileString(value, path, writer, issues);
  if (Array.isArray(value)) {
    const items = value.map((item: unknown, i) =>
      compileNode(item, child(path, i), writer, issues),
    );
    return (context) => items.map((render) => render(context));
  }
  if (isPlainObject(value)) {
    const entries = Object.entries(value).map(
      ([key, item]) => [key, compileNode(item, child(path, key), writer, issues)] as const,
    );
    // fromEntries defines own properties, so a "__proto__" key stays a plain key.
    return (context) => Object.fromEntries(entries.map(([key, render]) => [key, render(context)]));
  }
  const constant =
    value === null ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value));
  if (!constant) issues.push({ path, message: 'must be a JSON value' });
  return () => value;
}

/** A compiled template: its renderer, the writer that meters it, and every problem found. */
interface Compiled {
  renderer: NodeRenderer;
  writer: MeteredWriter;
  issues: TemplateIssue[];
}

/** Compiles a template, collecting every problem instead of stopping at the first. */
function compileAll(template: unknown): Compiled {
  const writer = new MeteredWriter();
  // Size and depth first: compiling walks the template recursively.
  const tooBig = templateSizeProblem(template);
  if (tooBig !== null)
    return { renderer: () => null, writer, issues: [{ path: '', message: tooBig }] };
  const issues: TemplateIssue[] = [];
  const renderer = compileNode(template, '', writer, issues);
  return { renderer, writer, issues };
}

/**
 * Parses a JSON template once. Every string in it is a mustache template over
 * `{event, form, response, data}`, rendered without HTML escaping; a string that
 * is exactly one tag (`"{{ data.age }}"`, `"{{{data.tags}}}"`) keeps the value's
 * JSON type, and a missing value becomes `null`. Object keys are kept as written.
 * Throws {@link TemplateError} (with the path of the first bad string, and all of
 * them in `issues`) when a string is not valid mustache or a bound of
 * {@link TEMPLATE_LIMITS} is passed (64 KB of source, 4 nested sections). Rendering
 * throws {@link TemplateRenderError} as soon as it passes 1 MiB of output (or its step
 * bound): it is stopped, not finished and then measured.
 *
 * @example
 * const t = compileTemplate({ text: 'Hi {{data.name}}', age: '{{data.age}}' });
 * t.render({ event: 'response.submitted', data: { name: 'Ada', age: 36 } });
 * // { text: 'Hi Ada', age: 36 }
 */
export function compileTemplate(template: unknown): CompiledTemplate {
  const { renderer, writer, issues } = compileAll(template);
  const first = issues[0];
  if (first !== undefined) throw new TemplateError(first.path, first.message, issues);
  return {
    render: (view) => {
      writer.reset();
      return renderer(new Mustache.Context(view));
    },
  };
}

/**
 * Every problem in a template (empty when it compiles), for a 422 at create time.
 *
 * @example validateTemplate({ text: '{{#a}}' }); // [{ path: 'text', message: 'Unclosed section "a" at 6' }]
 */
export function validateTemplate(template: unknown): TemplateIssue[] {
  return compileAll(template).issues;
}

/**
 * Compiles and renders in one go; for a template used once. Throws like
 * {@link compileTemplate} (TemplateError, TemplateRenderError).
 *
 * @example renderTemplate('{{data.n}}', { data: { n: 1 } }); // 1
 */
export function renderTemplate(template: unknown, view: TemplateView): unknown {
  return compileTemplate(template).render(view);
}
