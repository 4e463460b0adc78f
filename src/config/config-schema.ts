import { z } from 'zod';
import { parseDuration, parseDurationList } from './durations.ts';

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
    .optional()
    .transform((v) => (v === undefined ? fallback : v === 'true' || v === '1' || v === 'yes'));

const int = (fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be an integer from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });

const duration = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const ms = parseDuration(v ?? fallback);
      if (ms === null) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be a duration such as 500ms, 30s, 5m or 1h',
        });
        return z.NEVER;
      }
      return ms;
    });

const url = (protocols: string[]) =>
  z
    .string()
    .optional()
    .refine((v) => v === undefined || v === '' || isUrl(v, protocols), {
      message: `must be a URL (${protocols.join(' or ')})`,
    })
    .transform((v) => (v ? v : undefined));

/**
 * TRUST_PROXY as fastify's `trustProxy` takes it: unset or `false` -> false (the socket's
 * address), `true`, a hop count, or a list of addresses/CIDRs. Null when it is none of these.
 */
export function parseTrustProxy(text: string | undefined): boolean | number | string[] | null {
  const v = text?.trim() ?? '';
  if (v === '' || v === 'false') return false;
  if (v === 'true') return true;
  if (/^\d+$/.test(v)) return Number(v);
  const list = v.split(',').map((part) => part.trim());
  const address = /^[0-9A-Fa-f.:]+(\/\d{1,3})?$/;
  return list.every(
    (part) =>
      address.test(part) || part === 'loopback' || part === 'linklocal' || part === 'uniquelocal',
  )
    ? list
    : null;
}

/** An npm package name: lower case, optionally scoped (`@scope/name`), at most 214 characters. */
const PACKAGE_NAME = /^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;

/** PLUGINS: package names separated by commas (blanks ignored); null when one is not a package name. */
export function parsePackageList(text: string | undefined): string[] | null {
  const names = (text ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  return names.every((name) => name.length <= 214 && PACKAGE_NAME.test(name))
    ? [...new Set(names)]
    : null;
}

function isUrl(text: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(text).protocol.replace(/:$/, ''));
  } catch {
    return false;
  }
}

/** The environment variables formhub reads, with their defaults (DESIGN.md section 2). */
export const envSchema = z.object({
  PORT: int(3000, 0, 65535),
  HOST: z.string().optional().default('0.0.0.0'),
  DATABASE_URL: url(['postgres', 'postgresql']),
  DATABASE_REPLICA_URL: url(['postgres', 'postgresql']),
  DATABASE_POOL_MIN: int(10, 0, 1000),
  DATABASE_POOL_MAX: int(50, 1, 1000),
  DATA_DIR: z.string().min(1).optional().default('./data'),
  REDIS_URL: url(['redis', 'rediss']).transform((v) => v ?? 'redis://127.0.0.1:6379'),
  REDIS_PREFIX: z.string().optional().default('formhub:'),
  FORMHUB_ADMIN_KEY: z
    .string()
    .min(16, 'must be at least 16 characters')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  FORMHUB_ENCRYPTION_KEY: z
    .string()
    .optional()
    .refine((v) => !v || Buffer.from(v, 'base64').length === 32, {
      message: 'must be 32 bytes in base64 (openssl rand -base64 32)',
    }),
  WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const list = parseDurationList(v ?? '1s,5s,30s,5m,30m');
      if (!list) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be a comma-separated list of durations (1s,5s,30s)',
        });
        return z.NEVER;
      }
      return list;
    }),
  WEBHOOK_TIMEOUT_MS: int(10_000, 100, 300_000),
  WEBHOOK_ALLOW_PRIVATE_TARGETS: bool(false),
  CACHE_ENABLED: bool(true),
  CACHE_L1_TTL: duration('5m'),
  CACHE_L1_MAX_ITEMS: int(10_000, 1, 10_000_000),
  CACHE_L2_TTL: duration('1h'),
  FEATURE_ANALYTICS: bool(true),
  FEATURE_REPORTS: bool(true),
  FEATURE_CONNECTORS: bool(true),
  SMTP_URL: url(['smtp', 'smtps']),
  REPORT_FROM: z.string().optional(),
  NANGO_HOST: url(['http', 'https']),
  NANGO_SECRET_KEY: z.string().optional(),
  PLUGINS_DIR: z.string().optional().default('./plugins'),
  PLUGINS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const names = parsePackageList(v);
      if (!names) {
        ctx.addIssue({
          code: 'custom',
          message:
            'must be a comma-separated list of npm package names (my-connector,@acme/formhub-connector-crm)',
        });
        return z.NEVER;
      }
      return names;
    }),
  SLACK_API_URL: url(['http', 'https']).transform((v) => v ?? 'https://slack.com/api/'),
  GOOGLE_API_ROOT_URL: url(['http', 'https']).transform(
    (v) => v ?? 'https://sheets.googleapis.com/',
  ),
  SALESFORCE_LOGIN_URL: url(['http', 'https']).transform(
    (v) => v ?? 'https://login.salesforce.com',
  ),
  RATE_LIMIT_PER_IP: int(3000, 0, 10_000_000),
  RATE_LIMIT_PER_FORM: int(30_000, 0, 100_000_000),
  RATE_LIMIT_WINDOW: duration('1m'),
  RATE_LIMIT_UNAUTHORIZED: int(60, 0, 10_000_000),
  IMPORT_BODY_LIMIT_MB: int(1024, 1, 65_536),
  QUERY_TIMEOUT: duration('10s'),
  HTTP_REQUEST_TIMEOUT: duration('30s'),
  TRUST_PROXY: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const parsed = parseTrustProxy(v);
      if (parsed === null) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be true, false, a hop count or a comma-separated list of addresses/CIDRs',
        });
        return z.NEVER;
      }
      return parsed;
    }),
  EXPORT_TTL: duration('24h'),
  /** Set: traces are exported over OTLP/HTTP (src/tracing); the exporter reads it itself. */
  OTEL_EXPORTER_OTLP_ENDPOINT: url(['http', 'https']),
  OTEL_EXPORTER_OTLP_PROTOCOL: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (!v) return 'http/protobuf' as const;
      if (v === 'http/protobuf' || v === 'http/json') return v;
      ctx.addIssue({
        code: 'custom',
        message: 'must be http/protobuf or http/json (formhub exports OTLP over HTTP)',
      });
      return z.NEVER;
    }),
  /** Internal: how often an open SSE stream re-checks its API key (tests shorten it). */
  STREAM_KEY_CHECK: duration('30s').refine((ms) => ms >= 10 && ms <= 60_000, {
    message: 'must be from 10ms to 60s (a stream ends within 60 s of its key being revoked)',
  }),
  OUTBOX_LISTEN: bool(true),
  OUTBOX_POLL: duration('100ms').refine((ms) => ms >= 10 && ms <= 86_400_000, {
    message: 'must be from 10ms to 24h',
  }),
  OUTBOX_POLL_LISTENING: duration('1s').refine((ms) => ms >= 10 && ms <= 86_400_000, {
    message: 'must be from 10ms to 24h',
  }),
  LOAD_SHEDDING: bool(true),
  LOAD_SHEDDING_MAX_DELAY: duration('200ms'),
  LOAD_SHEDDING_MAX_ELU: int(0, 0, 100),
  LOAD_SHEDDING_MAX_HEAP_MB: int(0, 0, 1_048_576),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .optional()
    .default('info'),
});

export type Env = z.output<typeof envSchema>;
