/** The names a scaffolded plugin's files use. */
export interface PluginNames {
  /** The folder and connector id: `my-thing`. */
  id: string;
  /** The display name: `My Thing`. */
  title: string;
  /** The class: `MyThingPlugin`. */
  className: string;
  /** The config interface: `MyThingConfig`. */
  configName: string;
}

/** Every name a plugin called `id` needs. */
export function pluginNames(id: string): PluginNames {
  const words = id.split('-').filter((word) => word !== '');
  const pascal = words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join('');
  return {
    id,
    title: words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join(' '),
    className: `${pascal}Plugin`,
    configName: `${pascal}Config`,
  };
}

/**
 * `package.json`: makes the folder an ES module package wherever PLUGINS_DIR is (outside
 * the hub's folder no parent package says so), and names the entry the hub loads.
 */
export function manifestSource({ id }: PluginNames): string {
  const manifest = {
    name: `formhub-plugin-${id}`,
    version: '0.1.0',
    private: true,
    type: 'module',
    main: 'index.ts',
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/**
 * `vitest.config.ts`: the folder's own test setup. Vitest looks for a config upwards from
 * `--root`, so without it a plugin inside the hub's folder would get the hub's `include`.
 */
export function vitestConfigSource(): string {
  return `import { defineConfig } from 'vitest/config';

// This folder's own tests: \`npx vitest run --root <this folder>\` wherever PLUGINS_DIR is.
export default defineConfig({ test: { include: ['*.test.ts'] } });
`;
}

/** `index.ts`: a minimal connector that POSTs each submitted response to a configured URL. */
export function pluginSource({ id, title, className, configName }: PluginNames): string {
  return `/**
 * ${id}: POSTs each submitted response as JSON to the configured URL. Made by
 * \`formhub connector new ${id}\`; docs/plugins.md says how to grow it.
 */
import {
  FormPlugin,
  GoneError,
  parseRetryAfter,
  PermanentError,
  RetryableError,
  type FormEvent,
  type PluginContext,
} from '@formhub/sdk';

export interface ${configName} {
  /** Where each response is sent. */
  url: string;
  /** Sent as a bearer token; writeOnly, so the hub encrypts it and never returns it. */
  token?: string;
}

export default class ${className} extends FormPlugin<${configName}> {
  readonly metadata = {
    id: '${id}',
    name: '${title}',
    version: '0.1.0',
    description: 'POSTs each submitted response to a URL.',
    configSchema: {
      type: 'object',
      required: ['url'],
      additionalProperties: false,
      properties: {
        url: { type: 'string', format: 'uri', description: 'Where each response is sent' },
        token: { type: 'string', writeOnly: true, description: 'Bearer token' },
      },
    },
  };

  override async onResponseSubmitted(event: FormEvent, ctx: PluginContext<${configName}>): Promise<void> {
    const res = await ctx.http.request({
      url: ctx.config.url,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        // The same on every retry and replay: the target can drop duplicates.
        'idempotency-key': ctx.idempotencyKey,
        ...(ctx.config.token ? { authorization: \`Bearer \${ctx.config.token}\` } : {}),
      },
      body: JSON.stringify({ form: event.form, response_id: event.response.id, data: event.data }),
    });
    if (res.status >= 200 && res.status < 300) return;
    if (res.status === 410) throw new GoneError('the target is gone', { statusCode: 410 });
    const temporary =
      res.status === 408 || res.status === 429 || res.status >= 500 || res.status < 400;
    if (!temporary) {
      // Retrying cannot help: the delivery is dead-lettered until someone fixes the cause and replays it.
      throw new PermanentError(
        \`the target refused the response (\${res.status}): \${res.body.slice(0, 200)}\`,
        { statusCode: res.status },
      );
    }
    throw new RetryableError(\`the target answered \${res.status}\`, {
      statusCode: res.status,
      retryAfterMs: parseRetryAfter(res.headers['retry-after']) ?? undefined,
    });
  }
}
`;
}

/** `<id>.test.ts`: the plugin against a local node:http server, then the shared connector contract. */
export function testSource({ id, className }: PluginNames): string {
  return `import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectorContract, runPlugin, sampleEvent, startFakeService } from '@formhub/sdk';
import ${className} from './index.ts';

describe('${id}', () => {
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  // A local stand-in for the target service; grow it to speak that service's API.
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = \`http://127.0.0.1:\${(server.address() as AddressInfo).port}/in\`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('posts each submitted response to the configured URL', async () => {
    const event = sampleEvent({ data: { email: 'ada@example.com' } });
    const result = await runPlugin(new ${className}(), {
      config: { url, token: 'test-token' },
      event,
    });
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(received).toHaveLength(1);
    expect(JSON.parse(received[0]!.body)).toMatchObject({
      response_id: event.response.id,
      data: { email: 'ada@example.com' },
    });
    expect(received[0]!.headers.authorization).toBe('Bearer test-token');
  });
});

// The checks every formhub connector passes: metadata, success, a 4xx, a 429, a 5xx, a hang, no leaked secrets.
describe('${id}: connector contract', () => {
  const checks = connectorContract({
    plugin: () => new ${className}(),
    start: () => startFakeService(),
    config: (baseUrl) => ({ url: \`\${baseUrl}/in\`, token: '${id}-contract-secret' }),
  });
  for (const check of checks) it(check.name, check.run);
});
`;
}
