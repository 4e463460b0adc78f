/** The names a scaffolded connector package's files use. */
export interface PluginNames {
  /** The folder and connector id: `my-thing`. */
  id: string;
  /** The npm package: `formhub-connector-my-thing` (the hub finds packages named so). */
  packageName: string;
  /** The display name: `My Thing`. */
  title: string;
  /** The class: `MyThingPlugin`. */
  className: string;
  /** The SDK range the package asks for: `^0.1.0`, this hub's SDK line. */
  sdkRange: string;
}

/** Every name a connector called `id` needs; `sdkVersion` is this hub's @formhub/sdk version. */
export function pluginNames(id: string, sdkVersion: string): PluginNames {
  const words = id.split('-').filter((word) => word !== '');
  const capital = words.map((word) => word[0]!.toUpperCase() + word.slice(1));
  return {
    id,
    packageName: `formhub-connector-${id}`,
    title: capital.join(' '),
    className: `${capital.join('')}Plugin`,
    sdkRange: `^${sdkVersion}`,
  };
}

/**
 * `package.json`: a stand-alone ES module package, ready for `npm pack`. The SDK is a peer
 * dependency (the hub that installs the connector provides it; npm installs it for a hub
 * that lacks it) and a dev dependency (for the package's own tests). `npm test` runs
 * `node --test`: plain JavaScript, no build, no test framework to install.
 */
export function manifestSource({ id, packageName, sdkRange }: PluginNames): string {
  const manifest = {
    name: packageName,
    version: '0.1.0',
    description: `A formhub connector: ${id}`,
    type: 'module',
    main: './index.js',
    exports: { '.': './index.js' },
    files: ['index.js', 'README.md'],
    keywords: ['formhub', 'formhub-connector'],
    scripts: { test: 'node --test' },
    engines: { node: '>=20.9' },
    peerDependencies: { '@formhub/sdk': sdkRange },
    devDependencies: { '@formhub/sdk': sdkRange },
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** `README.md`: what the package is and the three commands of its life. */
export function readmeSource({ id, packageName, title }: PluginNames): string {
  return `# ${packageName}

${title}: a formhub connector (id \`${id}\`) that POSTs each submitted response as
JSON to the configured \`url\`, with an optional bearer \`token\`.

\`\`\`sh
npm test          # node --test: the SDK harness and the connector contract
npm pack          # ${packageName}-0.1.0.tgz
\`\`\`

Install the tarball into the folder a hub runs from (\`npm install
./${packageName}-0.1.0.tgz\`); the hub finds packages named
\`formhub-connector-*\` at start. The SDK's README is the author's guide.
`;
}

/** `index.js`: a minimal connector that POSTs each submitted response to a configured URL. */
export function pluginSource({ id, title, className }: PluginNames): string {
  return `/**
 * ${id}: POSTs each submitted response as JSON to the configured URL. Made by
 * \`formhub connector new ${id}\`; the @formhub/sdk README says how to grow it.
 */
import {
  FormPlugin,
  GoneError,
  parseRetryAfter,
  PermanentError,
  RetryableError,
} from '@formhub/sdk';

/**
 * @typedef {object} Config
 * @property {string} url Where each response is sent.
 * @property {string} [token] Sent as a bearer token; writeOnly, so the hub encrypts it and never returns it.
 */

/** @extends {FormPlugin<Config>} */
export default class ${className} extends FormPlugin {
  metadata = {
    id: '${id}',
    name: '${title}',
    // Semantic versioning: a new major version may refuse old configs (see migrateConfig).
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

  /**
   * @param {import('@formhub/sdk').FormEvent} event
   * @param {import('@formhub/sdk').PluginContext<Config>} ctx
   */
  async onResponseSubmitted(event, ctx) {
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

/** `test/<id>.test.js`: the plugin against a local node:http server, then the connector contract (node:test). */
export function testSource({ id, className }: PluginNames): string {
  return `import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { connectorContract, runPlugin, sampleEvent, startFakeService } from '@formhub/sdk';
import ${className} from '../index.js';

describe('${id}', () => {
  /** @type {{ headers: import('node:http').IncomingHttpHeaders, body: string }[]} */
  const received = [];
  // A local stand-in for the target service; grow it to speak that service's API.
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  let url = '';
  before(async () => {
    await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
    const address = /** @type {import('node:net').AddressInfo} */ (server.address());
    url = \`http://127.0.0.1:\${address.port}/in\`;
  });
  after(() => new Promise((resolve) => server.close(() => resolve(undefined))));

  it('posts each submitted response to the configured URL', async () => {
    const event = sampleEvent({ data: { email: 'ada@example.com' } });
    const result = await runPlugin(new ${className}(), { config: { url, token: 'test-token' }, event });
    assert.equal(result.error, undefined);
    assert.equal(result.ok, true);
    assert.equal(received.length, 1);
    const sent = JSON.parse(received[0].body);
    assert.equal(sent.response_id, event.response.id);
    assert.deepEqual(sent.data, { email: 'ada@example.com' });
    assert.equal(received[0].headers.authorization, 'Bearer test-token');
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
