/**
 * The smoke sizes of each benchmark (test/bench/smoke.test.ts): the same environment
 * variables the benches document, at sizes that finish in seconds. Every `bench:*` script of
 * package.json needs at least one case here; the smoke test fails otherwise.
 */

export interface SmokeCase {
  label: string;
  /** The package.json script, run as `node <its flags> bench/<file>.ts`. */
  script: string;
  /** The `bench` field of the JSON result line the bench must print. */
  result: string;
  env: Record<string, string>;
}

export const BENCH_SMOKE_CASES: readonly SmokeCase[] = [
  {
    label: 'bench:export (memory, one child hub per format: the longest, so first)',
    script: 'bench:export',
    result: 'export-memory',
    env: {
      EXPORT_MEMORY_CASES: '250:20',
      EXPORT_MEMORY_FORMATS: 'csv,pdf',
      EXPORT_CELL_TIMEOUT: '60',
    },
  },
  {
    label: 'bench:conditions',
    script: 'bench:conditions',
    result: 'conditions',
    env: { COND_EVENTS: '300', COND_ROUNDS: '1' },
  },
  {
    label: 'bench:operator (stats and retention under traffic)',
    script: 'bench:operator',
    result: 'operator',
    env: {
      OPERATOR_ATTEMPTS: '4000',
      OPERATOR_SEED_CHUNK: '1000',
      OPERATOR_STATS_REQUESTS: '20',
      OPERATOR_STATS_WARMUP: '5',
      OPERATOR_NAIVE_RUNS: '3',
      OPERATOR_BASELINE_S: '1',
      OPERATOR_RETENTION_BATCH: '200',
    },
  },
  {
    label: 'bench:tracing',
    script: 'bench:tracing',
    result: 'tracing',
    env: { TRACING_REQUESTS: '200', TRACING_WARMUP: '50', TRACING_ORDER: 'off,on' },
  },
  {
    label: 'bench:wakeup',
    script: 'bench:wakeup',
    result: 'wakeup',
    env: { WAKEUP_SUBMISSIONS: '5', WAKEUP_WARMUP: '2', WAKEUP_BACKENDS: 'postgres' },
  },
  {
    label: 'bench:workers (1 and 2 worker processes)',
    script: 'bench:workers',
    result: 'workers',
    env: { WORKERS_DELIVERIES: '200', WORKERS_SEQUENCE: '1,2' },
  },
  {
    label: 'bench:stats-counter',
    script: 'bench:stats-counter',
    result: 'stats-counter',
    env: { STATS_COUNTER_CALLS: '10000' },
  },
  {
    label: 'bench:artifacts',
    script: 'bench:artifacts',
    result: 'artifacts',
    env: {
      ARTIFACT_MB: '2',
      ARTIFACT_ROUNDS: '1',
      ARTIFACT_CHUNK_MB: '1',
      ARTIFACT_CHUNK_SIZES_KIB: '256,512',
    },
  },
  {
    label: 'bench:gc',
    script: 'bench:gc',
    result: 'gc-pause',
    env: { GC_HEAPS_MB: '20', GC_RUNS: '1' },
  },
  {
    label: 'bench:import',
    script: 'bench:import',
    result: 'import',
    env: { IMPORT_ROWS: '300' },
  },
  {
    label: 'bench:submit (hub, bare-same, bare-sql, bare)',
    script: 'bench:submit',
    result: 'submit',
    env: {
      SUBMIT_REQUESTS: '100',
      SUBMIT_WARMUP: '20',
      SUBMIT_CONCURRENCY: '4',
      SUBMIT_POOL_SIZE: '10',
      SUBMIT_BODIES: '20',
      SUBMIT_CLIENT: 'http',
      SUBMIT_ORDER: 'hub,bare-same,bare-sql,bare',
    },
  },
  {
    label: 'bench:delivery (throughput, latency, flaky)',
    script: 'bench:delivery',
    result: 'delivery',
    env: {
      DELIVERY_COUNT: '200',
      DELIVERY_CONCURRENCY: '10',
      DELIVERY_POOL_MAX: '10',
      DELIVERY_WARMUP: '20',
      DELIVERY_ENGINE_WARMUP: '50',
      DELIVERY_ROUNDS: '1',
      DELIVERY_LATENCY_SUBMISSIONS: '10',
      DELIVERY_FLAKY_SUBMISSIONS: '30',
      DELIVERY_FLAKY_CONCURRENCY: '4',
      DELIVERY_RETRY_SCHEDULE: '50ms,100ms',
      DELIVERY_SETTLE_TIMEOUT_S: '90',
      DELIVERY_REPLAY_ROUNDS: '3',
    },
  },
  {
    label: 'bench:analytics',
    script: 'bench:analytics',
    result: 'analytics',
    env: {
      ANALYTICS_RESPONSES: '500',
      ANALYTICS_SEQUENTIAL: '5',
      ANALYTICS_SQL_RUNS: '3',
      ANALYTICS_CONCURRENCY: '2',
      ANALYTICS_CONCURRENT_SECONDS: '1',
      ANALYTICS_SQL_CONCURRENT_RUNS: '3',
      ANALYTICS_DSL_RUNS: '3',
      ANALYTICS_FORECAST_SEEDS: '1',
    },
  },
  {
    label: 'bench:export (EXPORT_ROWS)',
    script: 'bench:export',
    result: 'export',
    env: { EXPORT_ROWS: '200' },
  },
  {
    label: 'bench:report',
    script: 'bench:report',
    result: 'report-pdf',
    env: { REPORT_RESPONSES: '20' },
  },
  {
    label: 'bench:load (serve and split)',
    script: 'bench:load',
    result: 'load',
    env: {
      LOAD_TOPOLOGY: 'serve,split',
      LOAD_SERVE_POOL: '4',
      LOAD_USERS: '10',
      LOAD_DURATION_S: '1',
      LOAD_RAMP_S: '1',
      LOAD_THINK_MS: '50-100',
      LOAD_FORMS: '2',
      LOAD_CONNECTIONS: '10',
      LOAD_WORKERS: '1',
      LOAD_PHASES: 'on',
    },
  },
  {
    label: 'bench:schema',
    script: 'bench:schema',
    result: 'schema-ceiling',
    env: {
      SCHEMA_CONNECTIONS: '4',
      SCHEMA_DURATION_S: '1',
      SCHEMA_WARMUP_S: '1',
      SCHEMA_ORDER: 'hub,bare',
    },
  },
  {
    label: 'bench:shedding',
    script: 'bench:shedding',
    result: 'load-shedding',
    env: {
      SHED_CONNECTIONS: '10',
      SHED_DURATION_S: '1',
      SHED_WARMUP_S: '1',
      SHED_WORKERS: '1',
      SHED_PHASES: 'on',
    },
  },
  {
    label: 'bench:ratelimit (limiter off vs on, out of reach)',
    script: 'bench:ratelimit',
    result: 'rate-limit',
    env: {
      RATELIMIT_COUNT: '200',
      RATELIMIT_WARMUP: '50',
      RATELIMIT_ROUNDS: '1',
      RATELIMIT_CONCURRENCY: '10',
      RATELIMIT_TIMEOUT_S: '60',
    },
  },
];
