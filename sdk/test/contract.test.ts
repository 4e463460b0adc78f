import { describe, expect, it } from 'vitest';
import {
  connectorContract,
  FormPlugin,
  metadataProblems,
  PermanentError,
  RetryableError,
  startFakeService,
  writeOnlySecrets,
  type ConnectorFixture,
  type FormEvent,
  type HttpResponse,
  type PluginContext,
} from '../src/index.ts';

interface ProbeConfig {
  url: string;
  token?: string;
}

/** What a probe does with the service's answer; the default is what a good connector does. */
type Handling = (res: HttpResponse, ctx: PluginContext<ProbeConfig>) => void;

const correct: Handling = (res) => {
  if (res.status < 300) return;
  if (res.status >= 400 && res.status < 500 && res.status !== 429) {
    throw new PermanentError(`refused: ${res.status}`);
  }
  throw new RetryableError(`answered ${res.status}`, { statusCode: res.status });
};

/** A small plugin whose handling of answers (and metadata) each test bends one way. */
function probe(
  handling: Handling = correct,
  metadata: Partial<FormPlugin['metadata']> = {},
  call = true,
) {
  return class Probe extends FormPlugin<ProbeConfig> {
    readonly metadata = {
      id: 'probe',
      name: 'Probe',
      version: '1.0.0',
      configSchema: {
        type: 'object',
        required: ['url'],
        properties: { url: { type: 'string' }, token: { type: 'string', writeOnly: true } },
      },
      ...metadata,
    };

    override async onResponseSubmitted(
      _event: FormEvent,
      ctx: PluginContext<ProbeConfig>,
    ): Promise<void> {
      if (!call) return;
      const res = await ctx.http.request({
        url: ctx.config.url,
        method: 'POST',
        headers: { authorization: `Bearer ${ctx.config.token}` },
      });
      handling(res, ctx);
    }
  };
}

function fixture(
  Plugin: ReturnType<typeof probe>,
  extra: Partial<ConnectorFixture<ProbeConfig>> = {},
): ConnectorFixture<ProbeConfig> {
  return {
    plugin: () => new Plugin(),
    start: () => startFakeService(),
    config: (base) => ({ url: `${base}/in`, token: 'probe-secret-4c1d' }),
    ...extra,
  };
}

/** Runs every case; returns the failures by case name. */
async function failures(f: ConnectorFixture<ProbeConfig>): Promise<Record<string, string>> {
  const failed: Record<string, string> = {};
  for (const check of connectorContract(f)) {
    await check.run().catch((error: Error) => (failed[check.name] = error.message));
  }
  return failed;
}

describe('connectorContract', () => {
  it('passes a connector that behaves', async () => {
    expect(await failures(fixture(probe()))).toEqual({});
  });

  it('fails a connector that swallows a 4xx', async () => {
    const failed = await failures(fixture(probe((res) => void res)));
    expect(failed['a 4xx refusal fails for good (PermanentError or GoneError)']).toMatch(
      /succeeded: the response would be lost silently/,
    );
    expect(failed['a 5xx fails and is retried, not dead-lettered']).toMatch(/hook succeeded/);
  });

  it('fails a connector that retries a 4xx, unless the fixture says why it must', async () => {
    const retries: Handling = (res) => {
      if (res.status >= 300) throw new RetryableError(`answered ${res.status}`);
    };
    const failed = await failures(fixture(probe(retries)));
    expect(Object.keys(failed)).toEqual([
      'a 4xx refusal fails for good (PermanentError or GoneError)',
    ]);
    expect(failed[Object.keys(failed)[0]!]).toMatch(/got RetryableError: answered 400/);
    expect(await failures(fixture(probe(retries), { clientErrorsRetried: 'a webhook' }))).toEqual(
      {},
    );
  });

  it('fails a connector that dead-letters a 5xx or a 429', async () => {
    const failed = await failures(
      fixture(
        probe((res) => {
          if (res.status >= 300) throw new PermanentError(`answered ${res.status}`);
        }),
      ),
    );
    expect(failed['a 5xx fails and is retried, not dead-lettered']).toMatch(
      /must be retried, got PermanentError/,
    );
    expect(failed['a 429 fails and is retried, not dead-lettered']).toMatch(
      /must be retried, got PermanentError/,
    );
  });

  it('fails a connector whose error or logs carry a secret, naming which', async () => {
    const inMessage = await failures(
      fixture(
        probe((res, ctx) => {
          if (res.status >= 300) {
            throw new RetryableError(`answered ${res.status} to token ${ctx.config.token}`);
          }
        }),
      ),
    );
    expect(inMessage['failures never reveal secrets in errors or logs']).toMatch(
      /value of config.token appears/,
    );
    const inLogs = await failures(
      fixture(
        probe((res, ctx) => {
          ctx.logger.warn('failed', { auth: `Bearer ${ctx.credentials.accessToken}` });
          correct(res, ctx);
        }),
      ),
    );
    expect(inLogs['failures never reveal secrets in errors or logs']).toMatch(
      /appears in the error or the logs/,
    );
  });

  it('fails a fixture that leaves every writeOnly property unset', async () => {
    const failed = await failures(fixture(probe(), { config: (base) => ({ url: `${base}/in` }) }));
    expect(failed['failures never reveal secrets in errors or logs']).toMatch(/sets none of them/);
  });

  it('fails a connector that never calls its service', async () => {
    const failed = await failures(fixture(probe(correct, {}, false)));
    expect(failed['a sample event succeeds against a healthy service']).toMatch(
      /without calling the service/,
    );
    expect(failed['a hang fails the attempt at the timeout without crashing']).toMatch(
      /never called/,
    );
  });

  it('fails malformed metadata with every problem listed', async () => {
    const failed = await failures(
      fixture(probe(correct, { id: 'Probe!', version: 'v1', configSchema: { type: 'array' } })),
    );
    const message = failed['metadata and config schema are well formed'];
    expect(message).toMatch(/id "Probe!" must match/);
    expect(message).toMatch(/version "v1" must be semver/);
    expect(message).toMatch(/configSchema.type must be "object"/);
  });
});

describe('metadata helpers', () => {
  it('lists required keys that are not properties', () => {
    const problems = metadataProblems({
      id: 'ok',
      name: 'OK',
      version: '1.2.3-beta.1',
      configSchema: {
        type: 'object',
        properties: { url: { type: 'string' } },
        required: ['url', 'token'],
      },
    });
    expect(problems).toEqual(['configSchema.required names "token", which is not in properties']);
  });

  it('finds writeOnly values at any depth', () => {
    const schema = {
      properties: {
        token: { type: 'string', writeOnly: true },
        auth: {
          type: 'object',
          properties: { password: { type: 'string', writeOnly: true }, user: { type: 'string' } },
        },
      },
    };
    expect(
      writeOnlySecrets(schema, { token: 't0k', auth: { user: 'ada', password: 'pw' } }),
    ).toEqual([
      { path: 'token', value: 't0k' },
      { path: 'auth.password', value: 'pw' },
    ]);
  });
});
