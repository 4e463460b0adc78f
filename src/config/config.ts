import { envSchema, type Env } from './config-schema.ts';

/** The hub's configuration, parsed once at start and frozen. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly database: {
    /** Unset: the embedded PGlite database in `dataDir`. */
    readonly url: string | undefined;
    readonly replicaUrl: string | undefined;
    readonly poolMin: number;
    readonly poolMax: number;
  };
  readonly dataDir: string;
  readonly redis: { readonly url: string; readonly prefix: string };
  readonly adminKey: string | undefined;
  /** base64 of 32 bytes; unset means "generate one into DATA_DIR" (see loadEncryptionKey). */
  readonly encryptionKey: string | undefined;
  readonly webhooks: {
    readonly retryScheduleMs: readonly number[];
    readonly timeoutMs: number;
    readonly allowPrivateTargets: boolean;
  };
  readonly cache: {
    /** False: every cache layer is off and reads go to PostgreSQL (for comparisons). */
    readonly enabled: boolean;
    readonly l1TtlMs: number;
    readonly l2TtlMs: number;
    /** Entries per process in L1, least recently used dropped first. */
    readonly l1MaxItems: number;
  };
  readonly features: {
    readonly analytics: boolean;
    readonly reports: boolean;
    readonly connectors: boolean;
  };
  readonly smtp: { readonly url: string | undefined; readonly from: string | undefined };
  readonly nango: { readonly host: string | undefined; readonly secretKey: string | undefined };
  readonly pluginsDir: string;
  /** PLUGINS: npm packages to load as plugins besides the formhub-connector-* ones found. */
  readonly pluginPackages: readonly string[];
  readonly connectors: {
    readonly slackApiUrl: string;
    readonly googleApiRootUrl: string;
    readonly salesforceLoginUrl: string;
  };
  readonly rateLimit: {
    readonly perIp: number;
    readonly perForm: number;
    readonly windowMs: number;
    /** RATE_LIMIT_UNAUTHORIZED: invalid keys per client address and window, then 429 (0: off). */
    readonly unauthorizedPerIp: number;
  };
  readonly importBodyLimitBytes: number;
  /** DESIGN.md section 3a: the bounds on hostile input. */
  readonly limits: {
    /** QUERY_TIMEOUT: the longest analytics, listing or export query, then cancelled. */
    readonly queryTimeoutMs: number;
    /** STREAM_KEY_CHECK: how often an SSE stream re-checks its key (ends within 60 s of a revocation). */
    readonly streamKeyCheckMs: number;
  };
  readonly http: {
    /** HTTP_REQUEST_TIMEOUT: the longest wait for a whole request body. */
    readonly requestTimeoutMs: number;
    /** TRUST_PROXY, as fastify's `trustProxy` takes it (false: the socket's address). */
    readonly trustProxy: boolean | number | readonly string[];
    /** Answering 503 instead of queueing when the process is overloaded (src/http/load-shedding.ts). */
    readonly loadShedding: {
      /** LOAD_SHEDDING: false turns it off (benchmarks compare both). */
      readonly enabled: boolean;
      /** LOAD_SHEDDING_MAX_DELAY: mean event-loop delay over a sample above which requests are shed. */
      readonly maxEventLoopDelayMs: number;
      /** LOAD_SHEDDING_MAX_ELU: event-loop utilisation in percent (0: not checked). */
      readonly maxEventLoopUtilizationPct: number;
      /** LOAD_SHEDDING_MAX_HEAP_MB: V8 heap in use (0: 90% of the heap limit). */
      readonly maxHeapUsedMb: number;
    };
  };
  readonly exports: {
    /** EXPORT_TTL: export files are deleted this long after they are made. */
    readonly ttlMs: number;
  };
  /** OpenTelemetry traces (src/tracing): off while `endpoint` is unset. */
  readonly tracing: {
    /** OTEL_EXPORTER_OTLP_ENDPOINT, validated here; the SDK's exporter reads the variable itself. */
    readonly endpoint: string | undefined;
    /** OTEL_EXPORTER_OTLP_PROTOCOL: OTLP's default, protobuf, or JSON. */
    readonly protocol: 'http/protobuf' | 'http/json';
  };
  /** How the outbox relay learns of new events (docs/operations.md, "The outbox relay"). */
  readonly outbox: {
    /** OUTBOX_LISTEN: LISTEN for commits of new events (false: poll only). */
    readonly listen: boolean;
    /** OUTBOX_POLL: the idle poll while nothing listens (off, or its connection is down). */
    readonly pollMs: number;
    /** OUTBOX_POLL_LISTENING: the idle poll while the listener holds, a fallback only. */
    readonly listeningPollMs: number;
  };
  readonly logLevel: Env['LOG_LEVEL'];
}

/** Thrown when the environment is invalid; `problems` holds one line per variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads and validates the environment. Throws ConfigError naming each bad variable.
 *
 * @example const config = loadConfig(process.env);
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'environment');
      const got = env[name];
      const shown =
        got === undefined || /KEY|SECRET|URL|ENDPOINT/.test(name) ? '' : ` (got "${got}")`;
      return `${name} ${issue.message}${shown}`;
    });
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  if (e.DATABASE_POOL_MIN > e.DATABASE_POOL_MAX) {
    throw new ConfigError(['DATABASE_POOL_MIN must not exceed DATABASE_POOL_MAX']);
  }
  return deepFreeze(toConfig(e));
}

function toConfig(e: Env): Config {
  return {
    port: e.PORT,
    host: e.HOST,
    database: {
      url: e.DATABASE_URL,
      replicaUrl: e.DATABASE_REPLICA_URL,
      poolMin: e.DATABASE_POOL_MIN,
      poolMax: e.DATABASE_POOL_MAX,
    },
    dataDir: e.DATA_DIR,
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX },
    adminKey: e.FORMHUB_ADMIN_KEY,
    encryptionKey: e.FORMHUB_ENCRYPTION_KEY || undefined,
    webhooks: {
      retryScheduleMs: e.WEBHOOK_RETRY_SCHEDULE,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      allowPrivateTargets: e.WEBHOOK_ALLOW_PRIVATE_TARGETS,
    },
    cache: {
      enabled: e.CACHE_ENABLED,
      l1TtlMs: e.CACHE_L1_TTL,
      l2TtlMs: e.CACHE_L2_TTL,
      l1MaxItems: e.CACHE_L1_MAX_ITEMS,
    },
    features: {
      analytics: e.FEATURE_ANALYTICS,
      reports: e.FEATURE_REPORTS,
      connectors: e.FEATURE_CONNECTORS,
    },
    smtp: { url: e.SMTP_URL, from: e.REPORT_FROM },
    nango: { host: e.NANGO_HOST, secretKey: e.NANGO_SECRET_KEY },
    pluginsDir: e.PLUGINS_DIR,
    pluginPackages: e.PLUGINS,
    connectors: {
      slackApiUrl: e.SLACK_API_URL,
      googleApiRootUrl: e.GOOGLE_API_ROOT_URL,
      salesforceLoginUrl: e.SALESFORCE_LOGIN_URL,
    },
    rateLimit: {
      perIp: e.RATE_LIMIT_PER_IP,
      perForm: e.RATE_LIMIT_PER_FORM,
      windowMs: e.RATE_LIMIT_WINDOW,
      unauthorizedPerIp: e.RATE_LIMIT_UNAUTHORIZED,
    },
    importBodyLimitBytes: e.IMPORT_BODY_LIMIT_MB * 1024 * 1024,
    limits: { queryTimeoutMs: e.QUERY_TIMEOUT, streamKeyCheckMs: e.STREAM_KEY_CHECK },
    http: {
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT,
      trustProxy: e.TRUST_PROXY,
      loadShedding: {
        enabled: e.LOAD_SHEDDING,
        maxEventLoopDelayMs: e.LOAD_SHEDDING_MAX_DELAY,
        maxEventLoopUtilizationPct: e.LOAD_SHEDDING_MAX_ELU,
        maxHeapUsedMb: e.LOAD_SHEDDING_MAX_HEAP_MB,
      },
    },
    exports: { ttlMs: e.EXPORT_TTL },
    tracing: { endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT, protocol: e.OTEL_EXPORTER_OTLP_PROTOCOL },
    outbox: {
      listen: e.OUTBOX_LISTEN,
      pollMs: e.OUTBOX_POLL,
      listeningPollMs: e.OUTBOX_POLL_LISTENING,
    },
    logLevel: e.LOG_LEVEL,
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
