import { describe, expect, it } from 'vitest';
import { PermanentError } from '../src/errors.ts';
import {
  TEMPLATE_LIMITS,
  TemplateRenderError,
  templateBoundIssues,
} from '../src/template-limits.ts';
import {
  compileTemplate,
  renderTemplate,
  TemplateError,
  validateTemplate,
} from '../src/template.ts';

/** `levels` sections over the same list, one inside the other. */
function nested(levels: number, body = 'xxxxxxxxxx'): string {
  let source = body;
  for (let i = 0; i < levels; i++) source = `{{#data.list}}${source}{{/data.list}}`;
  return source;
}

const list = Array.from({ length: 60 }, (_, i) => i);

describe('template bounds at save', () => {
  it('refuses more than 4 nested sections, naming the string', () => {
    expect(validateTemplate({ body: { text: nested(5) } })).toEqual([
      { path: 'body.text', message: 'must not nest more than 4 sections' },
    ]);
    expect(validateTemplate({ body: { text: nested(4) } })).toEqual([]);
    expect(validateTemplate(`{{^a}}${nested(4)}{{/a}}`)).toHaveLength(1);
  });

  it('refuses more than 64 KB of source and JSON nested past 32 levels, without recursing', () => {
    expect(validateTemplate({ text: 'x'.repeat(TEMPLATE_LIMITS.maxSourceBytes) })).toEqual([
      { path: '', message: 'must be at most 65536 bytes of template source' },
    ]);
    let deep: unknown = 'x';
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(validateTemplate(deep)).toEqual([
      { path: '', message: 'must not be nested deeper than 32 levels' },
    ]);
    expect(() => compileTemplate(deep)).toThrow(TemplateError);
  });

  it('checks connector configs for bounds only: strings that are not mustache are not templates', () => {
    expect(templateBoundIssues({ channel: '#a', token: 'x{{y', text: nested(5) })).toEqual([
      { path: 'text', message: 'must not nest more than 4 sections' },
    ]);
    expect(templateBoundIssues({ blocks: [{ text: nested(2) }] })).toEqual([]);
  });
});

describe('template bounds at render', () => {
  it('stops a rendering past 1 MiB early, as a permanent failure', () => {
    // 60^3 * 100 = 21.6 M characters if it ran to the end.
    const template = compileTemplate({ text: nested(3, 'x'.repeat(100)) });
    let thrown: unknown;
    const started = performance.now();
    try {
      template.render({ data: { list } });
    } catch (error) {
      thrown = error;
    }
    expect(performance.now() - started).toBeLessThan(500);
    expect(thrown).toBeInstanceOf(TemplateRenderError);
    expect(thrown).toBeInstanceOf(PermanentError);
    expect((thrown as Error).name).toBe('PermanentError');
    expect((thrown as Error).message).toMatch(/larger than 1048576 characters/);
  });

  it('stops sections that iterate without output', () => {
    expect(() => renderTemplate(nested(4, ''), { data: { list } })).toThrow(/rendering steps/);
  });

  it('renders within the bounds, and a template can be rendered again after a refusal', () => {
    const template = compileTemplate({
      text: '{{#data.list}}{{.}},{{/data.list}}',
      n: '{{data.n}}',
    });
    expect(template.render({ data: { list: [1, 2], n: 3 } })).toEqual({ text: '1,2,', n: 3 });
    const big = Array.from({ length: 200_000 }, () => 'abcdefgh');
    expect(() => template.render({ data: { list: big } })).toThrow(TemplateRenderError);
    expect(template.render({ data: { list: [1], n: 2 } })).toEqual({ text: '1,', n: 2 });
  });
});
