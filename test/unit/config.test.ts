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

describe('the tracing variables (DESIGN.md section 4c)', () => {
  it('leave tracing off unless OTEL_EXPORTER_OTLP_ENDPOINT is set; protobuf by default', () => {
    expect(loadConfig({}).tracing).toEqual({ endpoint: undefined, protocol: 'http/protobuf' });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: '' }).tracing.endpoint).toBeUndefined();
    expect(
      loadConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      }).tracing,
    ).toEqual({ endpoint: 'http://127.0.0.1:4318', protocol: 'http/json' });
  });

  it('reject an endpoint that is not an http(s) URL, and gRPC, in one line without echoing it', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (error) {
        return (error as ConfigError).problems;
      }
      return [];
    };
    expect(problems({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toEqual([
      'OTEL_EXPORTER_OTLP_ENDPOINT must be a URL (http or https)',
    ]);
    expect(problems({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toEqual([
      'OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or http/json (formhub exports OTLP over HTTP) (got "grpc")',
    ]);
  });
});
