import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  generateWebhookSecret,
  startFakeService,
  type ConnectorFixture,
  type FormPlugin,
} from '@formhub/sdk';
import {
  googleSheetsContractFake,
  salesforceContractFake,
  slackContractFake,
} from './vendor-fakes.ts';

/** The repository root: entries are named relative to it. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** One connector under the shared contract. */
export interface ContractEntry {
  /** The plugin folder's name (`connectors/<name>` or `plugins/<name>`). */
  name: string;
  /** Its entry file, relative to the repository root; the hub's loader loads it too. */
  entry: string;
  /** How to run it against a fake of its service, or why it cannot be run (the check then fails). */
  fixture: () => Promise<ConnectorFixture<unknown> | string>;
}

/** DESIGN.md, "Webhooks": every status but a 2xx fails and is retried, except 410 (disabled). */
const RETRIES_EVERY_STATUS = 'every status but 2xx and 410 is retried (DESIGN.md, Webhooks)';

/** Tokens the fakes accept; distinctive, so that the leak check cannot match them by accident. */
const ECHO_TOKEN = 'echo-contract-secret-5f2c';
const SLACK_TOKEN = 'xoxb-contract-secret-7d41';
const SHEETS_TOKEN = 'ya29.contract-secret-9a06';
const SALESFORCE_TOKEN = '00Dcontract!secret-3be8';

/** A fresh plugin from an entry's default export (a class or an instance), as the hub's loader reads it. */
async function pluginOf(entry: string): Promise<() => FormPlugin<unknown>> {
  const module = (await import(pathToFileURL(join(ROOT, entry)).href)) as { default: unknown };
  const exported = module.default;
  if (typeof exported === 'function') {
    return () => new (exported as new () => FormPlugin<unknown>)();
  }
  return () => exported as FormPlugin<unknown>;
}

/** A connector that speaks plain HTTP, against the SDK's `startFakeService`. */
function httpFixture(
  entry: string,
  fixture: Omit<ConnectorFixture<unknown>, 'plugin' | 'start'>,
): ContractEntry['fixture'] {
  return async () => ({
    plugin: await pluginOf(entry),
    start: () => startFakeService(),
    ...fixture,
  });
}

/**
 * A connector for a vendor API, against that vendor's fake from test/support/fakes/ (as
 * vendor-fakes.ts adapts it). A connector whose entry file is missing fails, saying so.
 */
function vendorFixture(
  id: string,
  fixture: Omit<ConnectorFixture<unknown>, 'plugin'>,
): ContractEntry['fixture'] {
  return async () => {
    const entry = `connectors/${id}/index.ts`;
    if (!existsSync(join(ROOT, entry))) return `${entry} does not exist yet`;
    return { plugin: await pluginOf(entry), ...fixture };
  };
}

/**
 * Every connector and plugin in the repository. A new one adds one object here; the
 * test fails for a plugin folder that has none.
 */
export const CONNECTORS: ContractEntry[] = [
  {
    name: 'webhook',
    entry: 'connectors/webhook/index.ts',
    fixture: httpFixture('connectors/webhook/index.ts', {
      config: (base) => ({ url: `${base}/hook`, headers: { 'x-team': 'contract' } }),
      signingSecrets: [generateWebhookSecret()],
      clientErrorsRetried: RETRIES_EVERY_STATUS,
    }),
  },
  {
    name: 'zapier',
    entry: 'connectors/zapier/index.ts',
    fixture: httpFixture('connectors/zapier/index.ts', {
      config: (base) => ({ target_url: `${base}/hooks/catch/123/abc/` }),
      clientErrorsRetried: `Zapier REST hooks follow webhooks: ${RETRIES_EVERY_STATUS}`,
    }),
  },
  {
    name: 'echo',
    entry: 'plugins/echo/index.ts',
    fixture: httpFixture('plugins/echo/index.ts', {
      config: (base) => ({
        url: `${base}/in`,
        summary: 'New response to {{form.title}}',
        token: ECHO_TOKEN,
      }),
    }),
  },
  {
    name: 'slack',
    entry: 'connectors/slack/index.ts',
    fixture: vendorFixture('slack', {
      start: () => slackContractFake('form-alerts', SLACK_TOKEN),
      config: () => ({
        channel: '#form-alerts',
        text: 'New response: {{data.name}}',
        token: SLACK_TOKEN,
      }),
      settings: (base) => ({ SLACK_API_URL: `${base}/api/` }),
    }),
  },
  {
    name: 'google-sheets',
    entry: 'connectors/google-sheets/index.ts',
    fixture: vendorFixture('google-sheets', {
      start: googleSheetsContractFake,
      config: () => ({
        spreadsheet_id: 'contract-spreadsheet',
        sheet: 'Sheet1',
        columns: [
          { header: 'Response', field: 'id' },
          { header: 'Name', field: 'name' },
          { header: 'Submitted', field: 'submitted_at' },
        ],
        token: SHEETS_TOKEN,
      }),
      settings: (base) => ({ GOOGLE_API_ROOT_URL: `${base}/` }),
    }),
  },
  {
    name: 'salesforce',
    entry: 'connectors/salesforce/index.ts',
    fixture: vendorFixture('salesforce', {
      start: () => salesforceContractFake(SALESFORCE_TOKEN),
      config: (base) => ({
        object: 'Lead',
        mapping: { LastName: 'name', Company: 'department', Email: 'email' },
        external_id_field: 'Formhub_Response_Id__c',
        token: SALESFORCE_TOKEN,
        instance_url: base,
      }),
      settings: (base) => ({ SALESFORCE_LOGIN_URL: base }),
    }),
  },
];
