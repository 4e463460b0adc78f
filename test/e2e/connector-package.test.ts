import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runCli, startServer, type Finished } from '../support/process.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ADMIN = 'e2e-admin-key-connector-package';
/** Offline: every package comes from a tarball on disk, never from a registry. */
const OFFLINE = ['--offline', '--no-audit', '--no-fund', '--loglevel=error'];

/** Runs a command to completion as an author would in a shell (bounded), outside this test run. */
function sh(command: string, args: string[], cwd: string, timeoutMs = 180_000): Promise<Finished> {
  // A nested node or vitest must not think it is one of this run's workers.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST')),
  );
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish in ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function ok(command: string, args: string[], cwd: string): Promise<string> {
  const result = await sh(command, args, cwd);
  expect(result.code, `${command} ${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

/** `npm pack` in `cwd` into `into`; answers the tarball's path. */
async function pack(cwd: string, into: string, what: string[] = []): Promise<string[]> {
  const out = await ok('npm', ['pack', ...what, '--pack-destination', into, ...OFFLINE], cwd);
  return out
    .trim()
    .split('\n')
    .filter((line) => line.endsWith('.tgz'))
    .map((file) => join(into, file.trim()));
}

/**
 * The author's whole path, outside this repository: pack the SDK, scaffold a connector with
 * `formhub connector new`, install the SDK tarball into it, run its own tests with plain
 * `node --test`, pack it, install it into the folder a hub runs from, and receive a delivery
 * through it; then new major versions of it, one the config survives and one it does not.
 */
describe('a connector package, from scaffold to delivery (tarballs only, no registry)', () => {
  let dir: string;
  let tarballs: string;
  let connector: string;
  let site: string;
  let sdkTarballs: string[];
  let receiver: Receiver;
  let sentinel: Receiver;
  let port: number;
  let hubEnv: Record<string, string>;
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  let key: string;
  let formId: string;
  let integrationId: string;
  const base = () => `http://127.0.0.1:${port}/api/v2`;

  const api = async (method: string, path: string, body?: unknown, auth = key) => {
    const res = await fetch(base() + path, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(auth ? { authorization: `Bearer ${auth}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const startHub = async () => {
    server = await startServer(['serve'], hubEnv, port, 60_000, { cwd: site });
  };
  const stopHub = async () => {
    const code = await server?.stop();
    expect(code, server?.output().slice(-3000)).toBe(0);
    server = undefined;
  };
  /** A new version of the connector: the author edits it, packs it, the site installs it. */
  const release = async (version: string, edit: (source: string) => string) => {
    const manifestPath = join(connector, 'package.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { version: string };
    manifest.version = version;
    writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    const indexPath = join(connector, 'index.js');
    writeFileSync(indexPath, edit(readFileSync(indexPath, 'utf8')));
    const [tarball] = await pack(connector, tarballs);
    await ok('npm', ['install', tarball!, ...OFFLINE], site);
  };
  /** Submits a response, waits for the sentinel webhook to get it: the relay has fanned it out. */
  const submit = async (name: string) => {
    const before = sentinel.requests.length;
    const res = await api('POST', `/forms/${formId}/responses`, { data: { name } }, '');
    expect(res.status).toBe(201);
    await sentinel.waitFor(before + 1, 30_000);
    return res.body.id as string;
  };
  const delivered = () => receiver.requests.map((r) => JSON.parse(r.body).data.name as string);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'formhub-connector-package-'));
    tarballs = join(dir, 'tarballs');
    mkdirSync(tarballs);
    // The SDK as its publisher packs it (prepack builds sdk/dist), and its two dependencies
    // as tarballs of the copies this repository installed: no registry is asked for anything.
    sdkTarballs = [
      ...(await pack(join(ROOT, 'sdk'), tarballs)),
      ...(await pack(ROOT, tarballs, ['./node_modules/mustache', './node_modules/typebox'])),
    ];
    receiver = await startReceiver();
    sentinel = await startReceiver();
    port = await freePort();
    hubEnv = {
      DATA_DIR: join(dir, 'data'),
      FORMHUB_ADMIN_KEY: ADMIN,
      REDIS_PREFIX: `e2e-connector-package-${port}:`,
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      PLUGINS_DIR: join(dir, 'no-plugins-dir'),
    };
  }, 240_000);

  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
    await sentinel?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scaffolds a stand-alone package whose own tests pass with plain node --test', async () => {
    const scaffolded = await runCli(
      ['connector', 'new', 'acme-crm', '--dir', join(dir, 'author')],
      {
        PLUGINS_DIR: join(dir, 'unused'),
      },
    );
    expect(scaffolded.stderr).toBe('');
    expect(scaffolded.code).toBe(0);
    connector = join(dir, 'author', 'acme-crm');
    const manifest = JSON.parse(readFileSync(join(connector, 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({
      name: 'formhub-connector-acme-crm',
      type: 'module',
      scripts: { test: 'node --test' },
      peerDependencies: { '@formhub/sdk': '^0.1.0' },
    });
    await ok('npm', ['install', '--save-dev', ...sdkTarballs, ...OFFLINE], connector);
    const tested = await sh(process.execPath, ['--test'], connector);
    expect(tested.code, tested.stdout + tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(/# pass 9\b/);
    expect(tested.stdout).toMatch(/# fail 0\b/);
  }, 240_000);

  it('types the installed SDK for a TypeScript author (tsc, strict, NodeNext)', async () => {
    const folder = join(dir, 'author', 'ts-check');
    mkdirSync(folder);
    writeFileSync(
      join(folder, 'check.ts'),
      `import { FormPlugin, RetryableError, runPlugin, type FormEvent, type PluginContext } from '@formhub/sdk';
import { verifyWebhookSignature } from '@formhub/sdk/signing';
type Config = { url: string };
class Typed extends FormPlugin<Config> {
  readonly metadata = { id: 'typed', name: 'Typed', version: '1.0.0', configSchema: {} };
  override async onResponseSubmitted(_event: FormEvent, ctx: PluginContext<Config>): Promise<void> {
    const res = await ctx.http.request({ url: ctx.config.url });
    if (res.status >= 300) throw new RetryableError('not yet');
  }
}
const verified: boolean = verifyWebhookSignature({ secret: 'whsec_x', headers: {}, body: '' });
void runPlugin(new Typed(), { config: { url: 'http://127.0.0.1:1/' } }).then((r) => r.ok && verified);
`,
    );
    writeFileSync(
      join(folder, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: true,
          noEmit: true,
          types: [],
        },
        files: ['check.ts'],
      }),
    );
    // Resolves @formhub/sdk from the scaffolded package's node_modules (the packed SDK).
    symlinkSync(join(connector, 'node_modules'), join(folder, 'node_modules'), 'dir');
    const checked = await sh(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', folder],
      folder,
    );
    expect(checked.code, checked.stdout + checked.stderr).toBe(0);
  }, 120_000);

  it('packs, installs into the folder a hub runs from, and delivers through the hub', async () => {
    const [tarball] = await pack(connector, tarballs);
    expect(tarball).toMatch(/formhub-connector-acme-crm-0\.1\.0\.tgz$/);
    site = join(dir, 'site');
    mkdirSync(site);
    writeFileSync(
      join(site, 'package.json'),
      `${JSON.stringify({ name: 'my-formhub-site', private: true, type: 'module' }, null, 2)}\n`,
    );
    await ok('npm', ['install', tarball!, ...sdkTarballs, ...OFFLINE], site);
    await startHub();

    const ws = await api('POST', '/workspaces', { name: 'Authors' }, ADMIN);
    key = ws.body.api_key as string;
    const connectors = await api('GET', '/connectors');
    const acme = (connectors.body.data as Record<string, unknown>[]).find(
      (c) => c.id === 'acme-crm',
    );
    expect(acme).toMatchObject({
      name: 'Acme Crm',
      version: '0.1.0',
      source: 'package',
      package: { name: 'formhub-connector-acme-crm', version: '0.1.0' },
    });
    expect(
      (connectors.body.data as Record<string, unknown>[]).find((c) => c.id === 'webhook'),
    ).toMatchObject({ source: 'builtin', package: null });

    const form = await api('POST', '/forms', {
      title: 'Leads',
      fields: [{ key: 'name', type: 'text', required: true }],
    });
    formId = form.body.id as string;
    const created = await api('POST', `/forms/${formId}/integrations`, {
      connector: 'acme-crm',
      config: { url: receiver.url, token: 'acme-secret-token' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'active', connector_version: '0.1.0' });
    expect(JSON.stringify(created.body)).not.toContain('acme-secret-token');
    integrationId = created.body.id as string;
    const hook = await api('POST', `/forms/${formId}/integrations`, {
      connector: 'webhook',
      config: { url: sentinel.url },
    });
    expect(hook.status).toBe(201);

    await submit('Ada');
    const [request] = await receiver.waitFor(1, 30_000);
    expect(JSON.parse(request!.body)).toMatchObject({ data: { name: 'Ada' } });
    expect(request!.headers.authorization).toBe('Bearer acme-secret-token');

    // A receiver verifies the hub's signed webhook with the packed SDK's signing entry alone.
    const signed = sentinel.requests[0]!;
    writeFileSync(
      join(site, 'signed.json'),
      JSON.stringify({ secret: hook.body.secret, headers: signed.headers, body: signed.body }),
    );
    const verify = `import { readFileSync } from 'node:fs';
import { verifyWebhookSignature } from '@formhub/sdk/signing';
const input = JSON.parse(readFileSync('signed.json', 'utf8'));
console.log(verifyWebhookSignature(input), verifyWebhookSignature({ ...input, body: input.body + ' ' }));`;
    const verified = await sh(process.execPath, ['--input-type=module', '-e', verify], site);
    expect(verified.stdout.trim(), verified.stderr).toBe('true false');
  }, 240_000);

  it('a new major version whose schema still accepts the config keeps delivering', async () => {
    await stopHub();
    await release('1.0.0', (source) => source.replace("version: '0.1.0'", "version: '1.0.0'"));
    await startHub();
    const got = await api('GET', `/integrations/${integrationId}`);
    expect(got.body).toMatchObject({
      status: 'active',
      connector_version: '1.0.0',
      needs_update_reason: null,
    });
    await submit('Grace');
    await receiver.waitFor(2, 30_000);
    expect(delivered()).toEqual(['Ada', 'Grace']);
  }, 240_000);

  it('a new major version that refuses the config marks it needs_update until a valid PATCH', async () => {
    await stopHub();
    // 2.0.0 sends to `endpoint`, which it requires: the stored config has only `url`.
    await release('2.0.0', (source) =>
      source
        .replace("version: '1.0.0'", "version: '2.0.0'")
        .replace("required: ['url']", "required: ['endpoint']")
        .replace(
          'properties: {',
          "properties: {\n        endpoint: { type: 'string', format: 'uri' },",
        )
        .replace('url: ctx.config.url,', 'url: ctx.config.endpoint,'),
    );
    await startHub();
    const got = await api('GET', `/integrations/${integrationId}`);
    expect(got.body).toMatchObject({ status: 'needs_update', active: false });
    expect(got.body.needs_update_reason).toMatch(/acme-crm 1\.0\.0 -> 2\.0\.0: .*endpoint/);
    const listed = await api('GET', `/forms/${formId}/integrations`);
    expect((listed.body.data as Record<string, unknown>[]).map((i) => i.status).sort()).toEqual([
      'active',
      'needs_update',
    ]);
    expect(server!.output()).toMatch(/integration needs an update/);

    // Not delivered to while it needs an update: the sentinel got this one, acme-crm did not.
    await submit('Barbara');
    expect(delivered()).toEqual(['Ada', 'Grace']);

    const refused = await api('PATCH', `/integrations/${integrationId}`, {
      events: ['response.submitted'],
    });
    expect(refused.status).toBe(422);
    const patched = await api('PATCH', `/integrations/${integrationId}`, {
      config: { endpoint: receiver.url },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      status: 'active',
      active: true,
      connector_version: '2.0.0',
      needs_update_reason: null,
    });
    await submit('Hedy');
    await receiver.waitFor(3, 30_000);
    expect(delivered()).toEqual(['Ada', 'Grace', 'Hedy']);
    // The token stayed sealed through all of it, and still reaches the service.
    expect(receiver.requests[2]!.headers.authorization).toBe('Bearer acme-secret-token');
    await stopHub();
  }, 240_000);
});
