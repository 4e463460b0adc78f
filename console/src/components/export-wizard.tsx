import { useState } from 'preact/hooks';
import { json, post } from '../api.ts';
import { downloadFile } from '../download.ts';
import { buildFilter, type FilterRow } from '../filter.ts';
import type { ExportJob, Form } from '../types.ts';
import { ErrorNote, Section } from './feedback.tsx';
import { FieldPicker } from './field-picker.tsx';
import { FilterRows } from './filter-rows.tsx';

const FORMATS = ['csv', 'xlsx', 'json', 'ndjson', 'pdf'] as const;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Progress {
  label: string;
  percent?: number;
}

/** Runs an export job to the end, reporting its progress, then downloads its file. */
async function runJob(
  formId: string,
  body: Record<string, unknown>,
  onProgress: (p: Progress) => void,
) {
  let job = await post<ExportJob>(`/forms/${formId}/exports`, body);
  while (job.status === 'queued' || job.status === 'running') {
    onProgress({ label: `Export job ${job.status}`, percent: job.progress });
    await sleep(500);
    job = await json<ExportJob>(`/exports/${job.id}`);
  }
  if (job.status === 'failed')
    throw new Error(`The export job failed: ${job.error ?? 'no reason given'}`);
  onProgress({ label: 'Downloading', percent: 100 });
  return downloadFile(job.download_url!.replace(/^\/api\/v2/, ''), `export.${String(body.format)}`);
}

/** Fields and their order, a filter, a date range and a format; then a download or an export job. */
export function ExportWizard({ form }: { form: Form }) {
  const all = [...form.fields.map((f) => f.key), ...form.calculated_fields.map((c) => c.key)];
  const [fields, setFields] = useState<string[]>(all);
  const [rows, setRows] = useState<FilterRow[]>([]);
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const [format, setFormat] = useState<(typeof FORMATS)[number]>('csv');
  const [mode, setMode] = useState<'direct' | 'job'>('direct');
  const [progress, setProgress] = useState<Progress>();
  const [result, setResult] = useState<string>();
  const [error, setError] = useState<unknown>();
  const paths = ['submitted_at', 'completed', ...all.map((k) => `data.${k}`)];

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setResult(undefined);
    try {
      const filter = buildFilter(rows, form.fields);
      if (fields.length === 0) throw new Error('Choose at least one field.');
      const body: Record<string, unknown> = { format, fields: fields.join(',') };
      if (filter) body.filter = JSON.stringify(filter);
      if (since) body.since = since;
      // The end date is inclusive: up to the end of that day (UTC).
      if (until) body.until = `${until}T23:59:59.999Z`;
      setProgress({ label: 'Preparing' });
      const file =
        mode === 'job'
          ? await runJob(form.id, body, setProgress)
          : await downloadFile(
              `/forms/${form.id}/export?${new URLSearchParams(body as Record<string, string>)}`,
              `export.${format}`,
            );
      setResult(`Downloaded ${file.name} (${file.size.toLocaleString()} bytes).`);
    } catch (e) {
      setError(e);
    } finally {
      setProgress(undefined);
    }
  };

  return (
    <Section title="Export wizard" id="h-export">
      <form class="wizard" onSubmit={submit}>
        <FieldPicker all={all} chosen={fields} onChange={setFields} />
        <FilterRows paths={paths} rows={rows} onChange={setRows} />
        <fieldset>
          <legend>Date range (UTC, inclusive)</legend>
          <div class="row">
            <label>
              From{' '}
              <input
                type="date"
                name="since"
                value={since}
                onInput={(e) => setSince(e.currentTarget.value)}
              />
            </label>
            <label>
              To{' '}
              <input
                type="date"
                name="until"
                value={until}
                onInput={(e) => setUntil(e.currentTarget.value)}
              />
            </label>
          </div>
        </fieldset>
        <fieldset>
          <legend>Format and delivery</legend>
          <div class="row">
            <label>
              Format{' '}
              <select
                name="format"
                value={format}
                onChange={(e) => setFormat(e.currentTarget.value as (typeof FORMATS)[number])}
              >
                {FORMATS.map((f) => (
                  <option key={f} value={f}>
                    {f.toUpperCase()}
                  </option>
                ))}
              </select>
            </label>
            <label>
              <input
                type="radio"
                name="mode"
                checked={mode === 'direct'}
                onChange={() => setMode('direct')}
              />{' '}
              Download now
            </label>
            <label>
              <input
                type="radio"
                name="mode"
                checked={mode === 'job'}
                onChange={() => setMode('job')}
              />{' '}
              Export job (large exports, with progress)
            </label>
          </div>
        </fieldset>
        <ErrorNote error={error} />
        {progress && (
          <div role="status" aria-live="polite">
            <label for="export-progress">{progress.label}</label>
            <progress id="export-progress" max={100} value={progress.percent} />
          </div>
        )}
        {result && (
          <p class="note ok" role="status">
            {result}
          </p>
        )}
        <button type="submit" disabled={progress !== undefined}>
          Export
        </button>
      </form>
    </Section>
  );
}
