import { describe, expect, it } from 'vitest';
import {
  acceptsProviderConfigKey,
  connectionProblems,
} from '../../src/integrations/connection-ownership.ts';
import { maskHeaders, restoreMaskedHeaders } from '../../src/integrations/masked-headers.ts';
import { readConnection } from '../../src/integrations/nango-connections.ts';
import { IntegrationCache } from '../../src/delivery/integration-cache.ts';

describe('masked webhook headers', () => {
  it('shows names only', () => {
    expect(maskHeaders({ Authorization: 'Bearer x', 'X-A': 'b' })).toEqual({
      Authorization: '***',
      'X-A': '***',
    });
    expect(maskHeaders(undefined)).toEqual({});
  });

  it('restores "***" from the stored header of the same name, in any case, and leaves the rest as sent', () => {
    const stored = { Authorization: 'Bearer s', 'X-Old': 'o' };
    expect(restoreMaskedHeaders({ authorization: '***', 'X-New': 'n' }, stored)).toEqual({
      authorization: 'Bearer s',
      'X-New': 'n',
    });
    // Nothing stored under that name: it stays masked, for validation to refuse.
    expect(restoreMaskedHeaders({ 'X-Missing': '***' }, stored)).toEqual({ 'X-Missing': '***' });
    expect(restoreMaskedHeaders({ 'X-A': '***' }, undefined)).toEqual({ 'X-A': '***' });
  });
});

describe('Nango connection input', () => {
  it.each([
    ['salesforce', 'salesforce', true],
    ['salesforce', 'salesforce-sandbox', true],
    ['salesforce', 'salesforce-', false],
    ['salesforce', 'slack', false],
    ['salesforce', 'salesforcex', false],
    ['slack', 'salesforce', false],
  ])('connector %s accepts provider config key %s: %s', (connector, key, ok) => {
    expect(acceptsProviderConfigKey(connector, key)).toBe(ok);
  });

  it('refuses dot segments and control characters in a connection id, and nothing else', () => {
    const ref = (connectionId: string) => ({ providerConfigKey: 'salesforce', connectionId });
    for (const id of ['.', '..', 'a\nb', 'a\u0000']) {
      expect(
        connectionProblems('salesforce', ref(id)).map((d) => d.field),
        JSON.stringify(id),
      ).toEqual(['connection_id']);
    }
    for (const id of ['../environment-variables#', 'a/b', '...', 'acme-prod', 'ünïcode']) {
      expect(connectionProblems('salesforce', ref(id)), id).toEqual([]);
    }
  });

  it("reads the token, Nango's instance URL and the end user, each only when it is a non-empty string", () => {
    expect(
      readConnection({
        credentials: { access_token: 't' },
        connection_config: { instance_url: 'https://acme.my.salesforce.com' },
        end_user: { id: 'ws-1' },
      }),
    ).toMatchObject({
      accessToken: 't',
      instanceUrl: 'https://acme.my.salesforce.com',
      endUserId: 'ws-1',
    });
    expect(
      readConnection({
        credentials: { access_token: 7 },
        end_user: null,
        connection_config: { instance_url: '' },
      }),
    ).toMatchObject({
      accessToken: undefined,
      instanceUrl: undefined,
      endUserId: undefined,
    });
  });
});

describe('IntegrationCache.reload', () => {
  it('joins a read under way and starts one when none is', async () => {
    let reads = 0;
    const cache = new IntegrationCache(async (id) => {
      reads++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { row: { id, version: String(reads) } as never };
    });
    await cache.get('x');
    expect(reads).toBe(1);
    // A batch of attempts that all found the cached copy stale: one read between them.
    const rereads = await Promise.all([cache.reload('x'), cache.reload('x'), cache.reload('x')]);
    expect(reads).toBe(2);
    expect(new Set(rereads).size).toBe(1);
    await cache.reload('x');
    expect(reads).toBe(3);
  });
});
