import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.ts';

describe('the section 3a variables', () => {
  it('default to 10s, 30s, the socket address and 24h', () => {
    const config = loadConfig({});
    expect(config.limits.queryTimeoutMs).toBe(10_000);
    expect(config.http.requestTimeoutMs).toBe(30_000);
    expect(config.http.trustProxy).toBe(false);
    expect(config.exports.ttlMs).toBe(24 * 3600_000);
  });

  it('take TRUST_PROXY as fastify does: true, a hop count, or addresses and CIDRs', () => {
    expect(loadConfig({ TRUST_PROXY: 'true' }).http.trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).http.trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, ::1' }).http.trustProxy).toEqual([
      '10.0.0.0/8',
      '::1',
    ]);
  });

  it('stop with one line naming the variable when a value is wrong', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'proxy.example' })).toThrow(ConfigError);
    expect(() => loadConfig({ QUERY_TIMEOUT: 'soon' })).toThrow(/QUERY_TIMEOUT must be a duration/);
  });
});
