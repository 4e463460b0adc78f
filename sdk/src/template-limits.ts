import Mustache from 'mustache';
import type { TemplateSpans } from 'mustache';
import { PermanentError } from './errors.ts';

/**
 * Bounds of a template (DESIGN.md 3a). Nested sections multiply: four sections over a
 * 100-item list run the innermost body 10^8 times, and a few kilobytes of template once
 * rendered 13 M characters per delivery attempt (1.7 s with the event loop blocked, again
 * on every retry). So the source is bounded where it is saved, and every rendering is
 * metered as it runs and stopped early, never measured after the fact.
 *
 * @example if (source.length > TEMPLATE_LIMITS.maxSourceBytes) showWarning('template too large');
 */
export const TEMPLATE_LIMITS = {
  /** The template's size as JSON (a string template counts its quotes and escapes too). */
  maxSourceBytes: 64 * 1024,
  /** Sections (`{{#a}}`, `{{^a}}`) inside sections, counting the outermost. */
  maxSectionDepth: 4,
  /** Levels of JSON nesting of the template itself. */
  maxJsonDepth: 32,
  /** Characters one rendering may produce, across every string of the template: 1 MiB. */
  maxOutputChars: 1024 * 1024,
  /** Tokens one rendering may visit (a section over a list visits its body once per item). */
  maxSteps: 200_000,
} as const;

/**
 * A rendering stopped at a bound. Rendering is deterministic, so retrying cannot help: it
 * is a PermanentError (its `name` stays 'PermanentError', which is how the hub classifies
 * failures), and a delivery that throws it goes to the dead-letter state at once.
 *
 * @example
 * try { compileTemplate(t).render(view); } catch (e) { if (e instanceof TemplateRenderError) log(e.message); throw e; }
 */
export class TemplateRenderError extends PermanentError {}

/**
 * A mustache writer that meters what it renders: output characters and tokens visited.
 * Call `reset()` before each rendering; past a bound it throws TemplateRenderError at once.
 */
export class MeteredWriter extends Mustache.Writer {
  private output = 0;
  private steps = 0;

  reset(): void {
    this.output = 0;
    this.steps = 0;
  }

  override renderTokens(...args: Parameters<Mustache.Writer['renderTokens']>): string {
    this.steps += args[0].length + 1;
    if (this.steps > TEMPLATE_LIMITS.maxSteps) {
      throw new TemplateRenderError(
        `the template needs more than ${TEMPLATE_LIMITS.maxSteps} rendering steps`,
      );
    }
    return super.renderTokens(...args);
  }

  override rawValue(token: string[]): string {
    return this.emit(super.rawValue(token));
  }

  override escapedValue(...args: Parameters<Mustache.Writer['escapedValue']>): string {
    const value = super.escapedValue(...args) as string | undefined;
    return value === undefined ? (value as unknown as string) : this.emit(value);
  }

  override unescapedValue(...args: Parameters<Mustache.Writer['unescapedValue']>): string {
    const value = super.unescapedValue(...args) as unknown;
    return value === undefined ? (value as unknown as string) : this.emit(String(value));
  }

  /** Counts a piece of output before mustache appends it. */
  private emit(text: string): string {
    this.output += text.length;
    if (this.output > TEMPLATE_LIMITS.maxOutputChars) {
      throw new TemplateRenderError(
        `the rendering is larger than ${TEMPLATE_LIMITS.maxOutputChars} characters (1 MiB); it was stopped`,
      );
    }
    return text;
  }
}

/** How deeply sections nest in parsed tokens (0 when there are none); iterative. */
export function sectionDepth(tokens: TemplateSpans): number {
  let deepest = 0;
  const stack: { tokens: TemplateSpans; depth: number }[] = [{ tokens, depth: 0 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    for (const token of item.tokens) {
      const children = (token as unknown[])[4];
      if ((token[0] === '#' || token[0] === '^') && Array.isArray(children)) {
        deepest = Math.max(deepest, item.depth + 1);
        stack.push({ tokens: children as TemplateSpans, depth: item.depth + 1 });
      }
    }
  }
  return deepest;
}

/**
 * Why a template's JSON is too big or too deep to compile, or null. Iterative and stopping
 * at the first bound passed, so a template nested 10,000 levels deep is refused, not walked.
 */
export function templateSizeProblem(template: unknown): string | null {
  let bytes = 0;
  const stack: { value: unknown; depth: number }[] = [{ value: template, depth: 0 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, depth } = item;
    if (value !== null && typeof value === 'object') {
      if (depth + 1 > TEMPLATE_LIMITS.maxJsonDepth) {
        return `must not be nested deeper than ${TEMPLATE_LIMITS.maxJsonDepth} levels`;
      }
      const entries = Array.isArray(value) ? value : Object.entries(value);
      bytes += 1 + entries.length;
      for (const entry of entries) {
        if (Array.isArray(value)) stack.push({ value: entry, depth: depth + 1 });
        else {
          const [key, inner] = entry as [string, unknown];
          bytes += utf8Bytes(JSON.stringify(key)) + 1;
          stack.push({ value: inner, depth: depth + 1 });
        }
      }
    } else {
      bytes += utf8Bytes(JSON.stringify(value) ?? 'null');
    }
    if (bytes > TEMPLATE_LIMITS.maxSourceBytes) {
      return `must be at most ${TEMPLATE_LIMITS.maxSourceBytes} bytes of template source`;
    }
  }
  return null;
}

const encoder = new TextEncoder();
function utf8Bytes(text: string): number {
  return encoder.encode(text).length;
}

/**
 * The bounds a template passes (source size, JSON depth, nested sections), ignoring strings
 * that are not valid mustache. For configs where only some strings are templates (a
 * connector's `text` beside its `channel`): the bounds hold for all of them at save, and
 * rendering is metered whatever was saved.
 *
 * @example templateBoundIssues({ text: '{{#a}}{{#b}}{{#c}}{{#d}}{{#e}}x{{/e}}{{/d}}{{/c}}{{/b}}{{/a}}' });
 * // [{ path: 'text', message: 'must not nest more than 4 sections' }]
 */
export function templateBoundIssues(template: unknown): { path: string; message: string }[] {
  const tooBig = templateSizeProblem(template);
  if (tooBig !== null) return [{ path: '', message: tooBig }];
  const issues: { path: string; message: string }[] = [];
  const stack: { value: unknown; path: string }[] = [{ value: template, path: '' }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, path } = item;
    if (typeof value === 'string') {
      if (value.includes('{{') && nestsTooDeep(value)) {
        issues.push({
          path,
          message: `must not nest more than ${TEMPLATE_LIMITS.maxSectionDepth} sections`,
        });
      }
    } else if (Array.isArray(value)) {
      value.forEach((inner: unknown, i) => stack.push({ value: inner, path: `${path}[${i}]` }));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value))
        stack.push({ value: inner, path: path ? `${path}.${key}` : key });
    }
  }
  return issues;
}

function nestsTooDeep(source: string): boolean {
  try {
    return sectionDepth(Mustache.parse(source)) > TEMPLATE_LIMITS.maxSectionDepth;
  } catch {
    return false; // not mustache: not a template, or reported by the connector's own checks
  }
}
