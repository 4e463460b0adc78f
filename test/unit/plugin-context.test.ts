import pino from 'pino';
import { Agent } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import type { FormEvent } from '@formhub/sdk';
import { AttemptAbort } from '../../src/delivery/attempt-abort.ts';
import { createPluginContext } from '../../src/delivery/plugin-context.ts';
import type { IntegrationRow } from '../../src/integrations/index.ts';

const event: FormEvent = {
  id: 'e1',
  type: 'response.submitted',
  created_at: '2026-11-29T00:00:00.000Z',
  form: { id: 'f1', title: 'Survey' },
  response: {
    id: 'r1',
    form_id: 'f1',
    data: { name: 'Ada', age: 36 },
    completed: true,
    submitted_at: '2026-11-29T00:00:00.000Z',
    updated_at: '2026-11-29T00:00:00.000Z',
    metadata: {},
  },
  data: { name: 'Ada', age: 36 },
};

describe('the plugin context of an attempt', () => {
  const agent = new Agent();
  afterAll(() => agent.close());

  const make = (logs: unknown[] = []) => {
    let refreshes = 0;
    const abort = new AttemptAbort();
    const logger = pino(
      { level: 'debug' },
      { write: (line: string) => logs.push(JSON.parse(line)) },
    );
    const { ctx } = createPluginContext({
      event,
      config: { url: 'http://127.0.0.1:1/x' },
      credentials: { accessToken: 'old' },
      integration: { id: 'i1' } as IntegrationRow,
      resolveCredentials: async () => ({ accessToken: `fresh-${++refreshes}` }),
      deliveryId: 'd1',
      integrationId: 'i1',
      attempt: 2,
      signingSecrets: [],
      settings: Object.freeze({ SLACK_API_URL: undefined }),
      dispatcher: agent,
      abort,
      logger,
    });
    return { ctx, abort };
  };

  it('lets its functions be taken off it, and renders templates over the event', async () => {
    const logs: Record<string, unknown>[] = [];
    const { ctx } = make(logs);
    const { render, renderValue, refreshCredentials, logger } = ctx;
    expect(render('{{form.title}}: {{data.name}}')).toBe('Survey: Ada');
    expect(renderValue({ age: '{{data.age}}', who: 'n={{data.name}}' })).toEqual({
      age: 36,
      who: 'n=Ada',
    });
    expect(await refreshCredentials()).toEqual({ accessToken: 'fresh-1' });
    expect(ctx.credentials).toEqual({ accessToken: 'fresh-1' });
    const { info } = logger;
    info('hello', { extra: 1 });
    expect(logs).toEqual([
      expect.objectContaining({
        msg: 'hello',
        extra: 1,
        delivery: 'd1',
        integration: 'i1',
        level: 30,
      }),
    ]);
    expect(ctx).toMatchObject({
      idempotencyKey: 'd1',
      attempt: 2,
      event,
      config: { url: 'http://127.0.0.1:1/x' },
    });
  });

  it('gives a real AbortSignal that the attempt aborts', () => {
    const { ctx, abort } = make();
    const { signal } = ctx;
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(signal.aborted).toBe(false);
    abort.abort(new Error('time is up'));
    expect(signal.aborted).toBe(true);
  });
});
