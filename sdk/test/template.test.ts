import Mustache from 'mustache';
import { describe, expect, it } from 'vitest';
import {
  TemplateError,
  compileTemplate,
  renderTemplate,
  validateTemplate,
} from '../src/template.ts';

const view = {
  event: 'response.submitted',
  form: { id: 'frm_1', title: 'Signup' },
  response: { id: 'rsp_1', submitted_at: '2024-05-01T10:00:00.000Z' },
  data: {
    name: 'Ada',
    age: 36,
    score: 0,
    ok: true,
    no: false,
    nothing: null,
    tags: ['a', 'b'],
    address: { city: 'Paris', zip: '75001' },
    html: `<b>&"'`,
    people: [{ name: 'x' }, { name: 'y' }],
  },
};

describe('compileTemplate: a lone tag keeps the JSON type', () => {
  it.each([
    ['{{data.age}}', 36],
    ['{{ data.age }}', 36],
    ['{{{data.age}}}', 36],
    ['{{{ data.age }}}', 36],
    ['{{& data.age}}', 36],
    ['{{data.score}}', 0],
    ['{{data.ok}}', true],
    ['{{data.no}}', false],
    ['{{data.nothing}}', null],
    ['{{data.missing}}', null],
    ['{{missing.deeply.nested}}', null],
    ['{{data.tags}}', ['a', 'b']],
    ['{{data.address}}', { city: 'Paris', zip: '75001' }],
    ['{{event}}', 'response.submitted'],
  ])('%s -> %j', (template, expected) => {
    expect(renderTemplate(template, view)).toEqual(expected);
  });
});

describe('compileTemplate: strings', () => {
  it('renders mixed strings, with missing values as empty strings', () => {
    expect(renderTemplate('{{data.name}} is {{data.age}} ({{data.missing}})', view)).toBe(
      'Ada is 36 ()',
    );
    expect(renderTemplate(' {{data.age}}', view)).toBe(' 36');
    expect(renderTemplate('plain text', view)).toBe('plain text');
    expect(renderTemplate('', view)).toBe('');
  });

  it('does not escape HTML, and leaves the global escape alone', () => {
    const before = Mustache.escape;
    expect(renderTemplate('<p>{{data.html}}</p>', view)).toBe(`<p><b>&"'</p>`);
    expect(renderTemplate('{{{data.html}}}!', view)).toBe(`<b>&"'!`);
    expect(renderTemplate('{{data.html}}', view)).toBe(`<b>&"'`);
    expect(Mustache.escape).toBe(before);
    expect(Mustache.render('{{x}}', { x: '<' })).toBe('&lt;');
  });

  it('stringifies non-strings inside larger strings as mustache does', () => {
    expect(renderTemplate('{{data.ok}}/{{data.no}}/{{data.tags}}/{{data.score}}', view)).toBe(
      'true/false/a,b/0',
    );
  });

  it('runs sections over arrays, inverted sections and dotted names', () => {
    expect(renderTemplate('{{#data.tags}}[{{.}}]{{/data.tags}}', view)).toBe('[a][b]');
    expect(renderTemplate('{{#data.people}}{{name}};{{/data.people}}', view)).toBe('x;y;');
    expect(renderTemplate('{{#data.address}}{{city}} {{zip}}{{/data.address}}', view)).toBe(
      'Paris 75001',
    );
    expect(renderTemplate('{{^data.missing}}none{{/data.missing}}', view)).toBe('none');
    expect(renderTemplate('{{#data.ok}}yes{{/data.ok}}{{#data.no}}no{{/data.no}}', view)).toBe(
      'yes',
    );
    expect(renderTemplate('{{! a comment }}{{form.title}}', view)).toBe('Signup');
  });
});

describe('compileTemplate: JSON structure', () => {
  it('walks nested objects and arrays, keeping keys and non-string values', () => {
    const template = {
      '{{data.name}}': 'key is not rendered',
      text: 'New response to {{form.title}}',
      nested: {
        list: ['{{data.age}}', ['{{data.ok}}', 7, null, false]],
        meta: { id: '{{response.id}}' },
      },
      n: 1.5,
    };
    expect(renderTemplate(template, view)).toEqual({
      '{{data.name}}': 'key is not rendered',
      text: 'New response to Signup',
      nested: { list: [36, [true, 7, null, false]], meta: { id: 'rsp_1' } },
      n: 1.5,
    });
  });

  it('keeps a "__proto__" key as a plain own key', () => {
    const template = JSON.parse('{"__proto__": {"x": "{{data.age}}"}}') as unknown;
    const out = renderTemplate(template, view) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual({ x: 36 });
  });

  it('renders a compiled template many times with different views', () => {
    const compiled = compileTemplate({ who: '{{data.name}}', age: '{{data.age}}' });
    for (let i = 0; i < 10_000; i += 1) {
      expect(compiled.render({ data: { name: `n${i}`, age: i } })).toEqual({
        who: `n${i}`,
        age: i,
      });
    }
  });

  it('does not fill the global mustache cache', () => {
    Mustache.clearCache();
    compileTemplate({ a: 'x {{y}} unique-template-string' }).render({ y: 1 });
    expect(Mustache.templateCache?.get('x {{y}} unique-template-string:{{:}}')).toBeUndefined();
    // The probe is sound: mustache's own parse does cache under that key.
    Mustache.parse('x {{y}} unique-template-string');
    expect(Mustache.templateCache?.get('x {{y}} unique-template-string:{{:}}')).toBeDefined();
    Mustache.clearCache();
  });
});

describe('template errors', () => {
  it('throws TemplateError naming the path of an unclosed section', () => {
    const template = { body: { text: 'Hi {{#a}}' } };
    expect(() => compileTemplate(template)).toThrow(TemplateError);
    try {
      compileTemplate(template);
    } catch (error) {
      expect(error).toBeInstanceOf(TemplateError);
      expect((error as TemplateError).path).toBe('body.text');
      expect((error as TemplateError).message).toMatch(/^body\.text: Unclosed section "a"/);
    }
  });

  it('validateTemplate lists every problem with its path, and nothing when fine', () => {
    expect(validateTemplate({ a: ['ok', '{{#a}}'], b: { c: '{{x' }, d: '{{/z}}' })).toEqual([
      { path: 'a[1]', message: expect.stringMatching(/Unclosed section "a"/) as unknown },
      { path: 'b.c', message: expect.stringMatching(/Unclosed tag/) as unknown },
      { path: 'd', message: expect.stringMatching(/Unopened section "z"/) as unknown },
    ]);
    expect(validateTemplate({ a: '{{#x}}{{y}}{{/x}}', b: [1, true, null] })).toEqual([]);
    expect(validateTemplate('{{#a}}')).toEqual([
      { path: '', message: 'Unclosed section "a" at 6' },
    ]);
  });

  it('rejects values that are not JSON', () => {
    expect(validateTemplate({ a: undefined, b: Number.NaN, c: new Date(0) })).toEqual([
      { path: 'a', message: 'must be a JSON value' },
      { path: 'b', message: 'must be a JSON value' },
      { path: 'c', message: 'must be a JSON value' },
    ]);
  });

  it('lists all issues on the error', () => {
    const error = (() => {
      try {
        compileTemplate(['{{#a}}', '{{#b}}']);
      } catch (e) {
        return e as TemplateError;
      }
      return undefined;
    })();
    expect(error?.path).toBe('[0]');
    expect(error?.issues.map((issue) => issue.path)).toEqual(['[0]', '[1]']);
  });
});
