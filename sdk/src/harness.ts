import type {
  Credentials,
  HttpClient,
  HttpRequest,
  HttpResponse,
  PluginContext,
  PluginLogger,
} from './context.ts';
import type { FormEvent, FormEventType } from './events.ts';
import { hookFor, type FormPlugin } from './plugin.ts';
import { compileTemplate } from './template.ts';

/**
 * A sample event to run a plugin against; override any part.
 *
 * @example const event = sampleEvent({ data: { email: 'ada@example.com' } });
 */
export function sampleEvent(
  overrides: {
    type?: FormEventType;
    data?: Record<string, unknown>;
    form?: { id: string; title: string };
  } = {},
): FormEvent {
  const form = overrides.form ?? {
    id: '01a2b3c4-0000-7000-8000-000000000001',
    title: 'Contact form',
  };
  const data = overrides.data ?? {
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    department: 'IT',
  };
  const at = '2026-11-28T10:00:00.000Z';
  return {
    id: '01a2b3c4-0000-7000-8000-0000000000e1',
    type: overrides.type ?? 'response.submitted',
    created_at: at,
    form,
    response: {
      id: '01a2b3c4-0000-7000-8000-0000000000a1',
      form_id: form.id,
      data,
      completed: true,
      submitted_at: at,
      updated_at: at,
      metadata: {},
    },
    data,
  };
}

/** What one harness run saw. */
export interface HarnessResult {
  ok: boolean;
  /** What the hook threw, if anything. */
  error?: Error;
  /** Every HTTP exchange the plugin made through `ctx.http`. */
  requests: { request: HttpRequest; response: HttpResponse }[];
  logs: { level: string; message: string; fields?: Record<string, unknown> }[];
}

export interface HarnessOptions<C> {
  config: C;
  event?: FormEvent;
  credentials?: Credentials;
  /** What `ctx.refreshCredentials()` answers (default: the same credentials). */
  refreshCredentials?: () => Promise<Credentials>;
  settings?: Record<string, string | undefined>;
  signingSecrets?: string[];
  /** Per-attempt timeout, as the hub applies it (default 10 s). */
  timeoutMs?: number;
  /** The transport; defaults to `fetch` (point the plugin at a local server in tests). */
  fetch?: typeof fetch;
}

/**
 * Runs a plugin's hook for one event the way the hub would (context, timeout, no
 * redirects) and reports what happened, without a hub.
 *
 * @example
 * const result = await runPlugin(new MyPlugin(), { config: { url: 'http://127.0.0.1:4000/' } });
 * assert.equal(result.ok, true);
 */
export async function runPlugin<C>(
  plugin: FormPlugin<C>,
  options: HarnessOptions<C>,
): Promise<HarnessResult> {
  const event = options.event ?? sampleEvent();
  const controller = new AbortController();
  const result: HarnessResult = { ok: false, requests: [], logs: [] };
  const view = { event: event.type, form: event.form, response: event.response, data: event.data };
  const ctx: PluginContext<C> = {
    config: options.config,
    logger: harnessLogger(result),
    http: harnessHttp(options.fetch ?? fetch, controller.signal, result),
    credentials: options.credentials ?? {},
    async refreshCredentials() {
      ctx.credentials = (await options.refreshCredentials?.()) ?? ctx.credentials;
      return ctx.credentials;
    },
    render: (template) => String(compileTemplate(template).render(view) ?? ''),
    renderValue: (template) => compileTemplate(template).render(view),
    idempotencyKey: '01a2b3c4-0000-7000-8000-0000000000d1',
    attempt: 1,
    signal: controller.signal,
    settings: options.settings ?? {},
    event,
    signingSecrets: options.signingSecrets ?? [],
  };
  const hook = hookFor(plugin, event.type);
  const timeoutMs = options.timeoutMs ?? 10_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    if (hook) {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new Error(`no answer within ${timeoutMs} ms`));
        }, timeoutMs);
      });
      await Promise.race([hook(event, ctx), timeout]);
    }
    result.ok = true;
  } catch (error) {
    result.error = error as Error;
  } finally {
    clearTimeout(timer);
  }
  return result;
}

function harnessLogger(result: HarnessResult): PluginLogger {
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    void result.logs.push({ level, message, fields });
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

function harnessHttp(
  fetchImpl: typeof fetch,
  signal: AbortSignal,
  result: HarnessResult,
): HttpClient {
  return {
    async request(request) {
      const res = await fetchImpl(request.url, {
        method: request.method ?? 'GET',
        headers: request.headers,
        body: request.body as string | undefined,
        redirect: 'manual',
        signal,
      });
      const response: HttpResponse = {
        status: res.status,
        headers: Object.fromEntries(res.headers.entries()),
        body: await res.text(),
      };
      result.requests.push({ request, response });
      return response;
    },
  };
}
