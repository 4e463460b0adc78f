import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_TEMPLATE,
  loadReportTemplate,
  parseReportTemplate,
  ReportTemplateError,
} from '../../src/reports/pdf/template.ts';
import { fillPlaceholders } from '../../src/reports/pdf/template.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'report-template-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('report templates', () => {
  it('loads the default template by name', async () => {
    const template = await loadReportTemplate('default');
    expect(template.labels.responses).toBe('Responses');
    expect(template.footer).toBe('Page {page}');
    expect(template.page.margins.left).toBe(DEFAULT_TEMPLATE.page.margins.left);
  });

  it('completes a partial template from the default and resolves font paths', async () => {
    const file = join(dir, 'german.json');
    await writeFile(
      file,
      JSON.stringify({
        labels: { responses: 'Antworten' },
        footer: 'Seite {page}',
        fonts: { regular: ['fonts/Noto.ttf'] },
      }),
    );
    const template = await loadReportTemplate(file);
    expect(template.labels.responses).toBe('Antworten');
    expect(template.labels.generated).toBe('Generated');
    expect(template.footer).toBe('Seite {page}');
    expect(template.fonts.regular).toEqual([join(dir, 'fonts/Noto.ttf')]);
    expect(template.fonts.bold).toEqual(DEFAULT_TEMPLATE.fonts.bold);
  });

  it('rejects invalid templates with the path of each problem', async () => {
    expect(() => parseReportTemplate({ colors: { accent: 'red' } })).toThrow(/colors\.accent/);
    expect(() => parseReportTemplate({ charts: { daily: 'pie' } })).toThrow(ReportTemplateError);
    expect(() => parseReportTemplate([])).toThrow(ReportTemplateError);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{ not json');
    await expect(loadReportTemplate(bad)).rejects.toThrow(/not valid JSON/);
    await expect(loadReportTemplate('missing-template')).rejects.toThrow(/not found/);
  });

  it('fills placeholders and leaves unknown ones', () => {
    expect(fillPlaceholders('Page {page} of {pages}', { page: 3, pages: 9 })).toBe('Page 3 of 9');
    expect(fillPlaceholders('{form_title} {other}', { form_title: 'T' })).toBe('T {other}');
  });
});
