import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BlockedAddressError,
  checkTargetUrl,
  classifyAddress,
  createGuardedAgent,
  createGuardedLookup,
} from '../../src/net/address-guard.ts';
import type { AddressClass } from '../../src/net/address-guard.ts';

const CLASSES: ReadonlyArray<readonly [string, AddressClass]> = [
  // IPv4
  ['8.8.8.8', 'public'],
  ['1.1.1.1', 'public'],
  ['93.184.216.34', 'public'],
  ['0.0.0.0', 'unspecified'],
  ['0.255.255.255', 'unspecified'],
  ['10.0.0.1', 'private'],
  ['10.255.255.255', 'private'],
  ['100.63.255.255', 'public'],
  ['100.64.0.1', 'cgnat'],
  ['100.127.255.255', 'cgnat'],
  ['100.128.0.0', 'public'],
  ['100.100.100.200', 'metadata'],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['169.254.0.1', 'link-local'],
  ['169.254.169.254', 'metadata'],
  ['169.254.170.2', 'metadata'],
  ['168.63.129.16', 'metadata'],
  ['172.15.255.255', 'public'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['172.32.0.0', 'public'],
  ['192.0.0.8', 'reserved'],
  ['192.0.2.1', 'reserved'],
  ['192.88.99.1', 'reserved'],
  ['192.168.1.1', 'private'],
  ['198.17.255.255', 'public'],
  ['198.18.0.1', 'reserved'],
  ['198.19.255.255', 'reserved'],
  ['198.20.0.0', 'public'],
  ['198.51.100.7', 'reserved'],
  ['203.0.113.9', 'reserved'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.255', 'reserved'],
  // IPv6
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['::FFFF:10.1.2.3', 'private'],
  ['::ffff:169.254.169.254', 'metadata'],
  ['::ffff:8.8.8.8', 'public'],
  ['::127.0.0.1', 'reserved'],
  ['64:ff9b::7f00:1', 'loopback'],
  ['64:ff9b::808:808', 'public'],
  ['2002:c0a8:101::1', 'private'],
  ['2002:808:808::1', 'public'],
  ['2001:db8::1', 'reserved'],
  ['2001::1', 'reserved'],
  ['2606:4700:4700::1111', 'public'],
  ['2a00:1450:4001:82a::200e', 'public'],
  ['fc00::1', 'unique-local'],
  ['fdff:ffff::1', 'unique-local'],
  ['fd00:ec2::254', 'metadata'],
  ['fe80::1', 'link-local'],
  ['fe80::1%eth0', 'link-local'],
  ['febf::1', 'link-local'],
  ['fec0::1', 'private'],
  ['ff02::1', 'multicast'],
  ['100::1', 'reserved'],
  ['4000::1', 'reserved'],
];

describe('classifyAddress', () => {
  it.each(CLASSES)('%s is %s', (ip, expected) => {
    expect(classifyAddress(ip)).toBe(expected);
  });

  it.each(['', 'localhost', '1.2.3', '256.1.1.1', '::g', '0x7f.0.0.1'])('throws for %j', (ip) => {
    expect(() => classifyAddress(ip)).toThrow(TypeError);
  });
});

describe('checkTargetUrl', () => {
  it.each([
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['http://[::1]:8080/hook', 'loopback'],
    ['http://0x7f.1/', 'loopback'],
    ['http://2130706433/', 'loopback'],
    ['http://017700000001/', 'loopback'],
    ['http://127.1/', 'loopback'],
    ['http://169.254.169.254/latest', 'metadata'],
    ['http://[fd00:ec2::254]/latest', 'metadata'],
    ['http://10.0.0.5/', 'private'],
    ['http://0.0.0.0:3000/', 'unspecified'],
    ['http://localhost:3000/', 'name'],
    ['http://LOCALHOST./', 'name'],
    ['http://api.localhost/', 'name'],
    ['http://metadata.google.internal/computeMetadata/v1/', 'name'],
    ['http://db.internal/', 'name'],
  ])('refuses %s (%s) as "target address not allowed", naming no address', (url, blocked) => {
    const result = checkTargetUrl(url, false);
    expect(result).toEqual({ ok: false, reason: 'target address not allowed', blocked });
  });

  it.each([
    ['ftp://x', /only http and https/],
    ['file:///etc/passwd', /only http and https/],
    ['javascript:alert(1)', /only http and https/],
    ['http://user:pw@example.com', /credentials/],
    ['https://token@example.com/', /credentials/],
    ['not a url', /not a valid URL/],
  ])('refuses %s', (url, reason) => {
    const result = checkTargetUrl(url, false);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it.each([
    'https://example.com/hooks?x=1',
    'http://8.8.8.8:8080/',
    'https://[2606:4700::1]/',
    'https://hooks.internal.example.com/',
  ])('accepts %s', (url) => {
    const result = checkTargetUrl(url, false);
    expect(result).toEqual({ ok: true, url: new URL(url) });
  });

  it('allows private targets when told to, but never other schemes or credentials', () => {
    expect(checkTargetUrl('http://127.0.0.1:3000/', true).ok).toBe(true);
    expect(checkTargetUrl('http://localhost:3000/', true).ok).toBe(true);
    expect(checkTargetUrl('http://[::1]/', true).ok).toBe(true);
    expect(checkTargetUrl('ftp://127.0.0.1/', true).ok).toBe(false);
    expect(checkTargetUrl('http://a:b@127.0.0.1/', true).ok).toBe(false);
  });
});

/** Runs a guarded lookup as a promise. */
function lookup(allowPrivate: boolean, hostname: string, all: boolean) {
  return new Promise<{ address: string | LookupAddress[]; family?: number }>((resolve, reject) => {
    createGuardedLookup(allowPrivate)(hostname, { all }, (error, address, family) =>
      error ? reject(error) : resolve({ address, family }),
    );
  });
}

describe('createGuardedLookup', () => {
  it('passes public addresses, in both callback forms', async () => {
    await expect(lookup(false, '8.8.8.8', false)).resolves.toEqual({
      address: '8.8.8.8',
      family: 4,
    });
    await expect(lookup(false, '8.8.8.8', true)).resolves.toEqual({
      address: [{ address: '8.8.8.8', family: 4 }],
      family: undefined,
    });
  });

  it('fails with EBLOCKEDADDRESS naming the class', async () => {
    const error = await lookup(false, 'localhost', true).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BlockedAddressError);
    expect(error).toMatchObject({
      code: 'EBLOCKEDADDRESS',
      hostname: 'localhost',
      addressClass: 'loopback',
    });
    // The message reaches the attempt log: it names neither the host nor the address.
    expect((error as Error).message).toBe('target address not allowed');
    expect((error as BlockedAddressError).describe()).toMatch(/of localhost is loopback/);
    await expect(lookup(false, '169.254.169.254', false)).rejects.toMatchObject({
      addressClass: 'metadata',
    });
  });

  it('passes anything when private targets are allowed', async () => {
    const { address } = await lookup(true, 'localhost', true);
    expect(Array.isArray(address) && address.length > 0).toBe(true);
  });
});

describe('createGuardedAgent', () => {
  let server: Server;
  let port = 0;
  let hits = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits += 1;
      if (req.url === '/redirect') res.writeHead(302, { location: '/' }).end();
      else if (req.url !== '/hang') res.end('pong'); // /hang never answers
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it.each(['localhost', '127.0.0.1'])(
    'refuses http://%s:<port> and never reaches the server',
    async (host) => {
      const agent = createGuardedAgent({ allowPrivate: false, timeoutMs: 2000 });
      const before = hits;
      try {
        const error = await request(`http://${host}:${port}/`, { dispatcher: agent }).catch(
          (e: unknown) => e,
        );
        expect(error).toMatchObject({ code: 'EBLOCKEDADDRESS', addressClass: 'loopback' });
        expect(hits).toBe(before);
      } finally {
        await agent.close();
      }
    },
  );

  it('connects when private targets are allowed', async () => {
    const agent = createGuardedAgent({ allowPrivate: true, timeoutMs: 2000, connections: 1 });
    try {
      const before = hits;
      const response = await request(`http://localhost:${port}/`, { dispatcher: agent });
      expect(response.statusCode).toBe(200);
      expect(await response.body.text()).toBe('pong');
      expect(hits).toBe(before + 1);
    } finally {
      await agent.close();
    }
  });

  it('does not follow redirects: a 3xx is just the answer', async () => {
    const agent = createGuardedAgent({ allowPrivate: true, timeoutMs: 2000 });
    try {
      const response = await request(`http://127.0.0.1:${port}/redirect`, { dispatcher: agent });
      expect(response.statusCode).toBe(302);
      await response.body.dump();
    } finally {
      await agent.close();
    }
  });

  it('times out waiting for headers after timeoutMs', async () => {
    const agent = createGuardedAgent({ allowPrivate: true, timeoutMs: 200 });
    try {
      const error = await request(`http://127.0.0.1:${port}/hang`, { dispatcher: agent }).catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
    } finally {
      await agent.destroy();
    }
  });
});
