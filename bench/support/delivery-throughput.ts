/**
 * Deliveries per second from ONE worker (bench/delivery.ts, part 1), in this process, next
 * to two references sent to the same receiver with the same client and concurrency:
 *
 * - bare: a loop of undici `request` POSTs through the hub's guarded Agent, `concurrency`
 *   in flight, bodies shaped and sized like the webhook payload;
 * - bullmq: BullMQ alone, a pre-filled queue and a Worker of the same concurrency whose
 *   processor makes the same POST (the "BullMQ alone" reference);
 * - engine: the hub's own worker (`startWorker`: relay, sweeper, DeliveryEngine, BullMQ worker,
 *   webhook plugin with signing, attempt log in PostgreSQL) on a queue pre-filled by the real
 *   outbox relay from N committed `response.submitted` events.
 *
 * Each rate is the receiver's: (requests - 1) / (last arrival - first arrival).
 */

import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { request, type Dispatcher } from 'undici';
import { uuidv7 } from '../../src/common/ids.ts';
import type { Database } from '../../src/db/index.ts';
import {
  BullDeliveryQueue,
  DeliveryEngine,
  GROUP_SIZE,
  OutboxRelay,
} from '../../src/delivery/index.ts';
import { createGuardedAgent } from '../../src/net/index.ts';
import { loadAllPlugins } from '../../src/plugins/index.ts';
import { SecretBox } from '../../src/secrets/index.ts';
import { startWorker } from '../../src/worker/index.ts';
import { startHub, type TestHub } from '../../test/support/hub.ts';
import { cpuOf, cpuSince, cpuSnapshot, machineCpuMs } from './cpu.ts';
import { startCpuProfile, type CpuProfileSummary, type CpuProfiler } from './cpu-profile.ts';
import {
  commandStatsDelta,
  parseCommandStats,
  startPgSampler,
  type WaitProfile,
} from './pg-sampler.ts';
import { installQueryProfile, type QueryProfile, type StatementStats } from './query-profile.ts';
import type { ReceiverProcess } from './receiver-process.ts';
import { snapshotTables, tableIoBetween, type TableIo } from './table-io.ts';
import { backendPids } from './servers.ts';
import { percentiles, round } from './stats.ts';
import { BENCH_FORM, makeAnswers, seededRandom } from './workload.ts';

export interface ThroughputOptions {
  deliveries: number;
  concurrency: number;
  poolMax: number;
  warmup: number;
  /** Deliveries of the engine's unmeasured warm-up run. */
  engineWarmup: number;
  /** Give up on a phase after this long. */
  phaseTimeoutMs: number;
  /** Count and time the engine's SQL statements (cheap wrappers, on by default). */
  profile: boolean;
  /** Also take a sampling CPU profile of this process during the first engine phase (slows it). */
  cpuProfile: boolean;
  /** Rounds of (engine phase, bare phase) after the first bare and BullMQ phases. */
  rounds: number;
}

/** What one phase cost: its rate and who used the CPU meanwhile. */
export interface PhaseResult {
  name: string;
  /** Measured with the SQL or CPU profile on (slower; left out of ratios when others exist). */
  profiled?: boolean;
  requests: number;
  errors: number;
  /** Mean request body size at the receiver. */
  bodyBytes: number;
  /** Receiver-side: first to last arrival. */
  spanMs: number;
  perSecond: number;
  /** % of one core over the phase (2 cores = 200%). */
  cpu: { sender: number; receiver: number; postgres: number; redis: number; machine: number };
  /** CPU ms per delivery. */
  cpuPerDelivery: { sender: number; receiver: number; postgres: number; redis: number };
  /** The sender's event loop: utilisation (0..1) and delay percentiles (ms). */
  eventLoop: { utilisation: number; delayP50: number; delayP99: number };
  redisCallsPerDelivery: number;
  redisTopCommands: { command: string; perDelivery: number }[];
}

export interface EngineProfile {
  statements: (StatementStats & { perDelivery: number; meanMs: number })[];
  queriesPerDelivery: number;
  attempt: { meanMs: number; p50: number; p95: number; dbMeanMs: number; otherMeanMs: number };
  /** concurrency / rate - mean attempt time: what a job costs outside `attempt` (BullMQ, queueing). */
  outsideAttemptMs: number;
  pool: { meanWaiting: number; maxWaiting: number; meanInUse: number };
  waits: WaitProfile;
  cpu: CpuProfileSummary | undefined;
}

export interface EngineRun {
  relay: { events: number; ms: number; perSecond: number };
  profile: EngineProfile | undefined;
  /** The deliveries, checked after the run. */
  check: { succeeded: number; distinctWebhookIds: number; duplicateRequests: number };
  /** What the phase did to the delivery tables (updates, HOT share, pages touched, growth). */
  tables: TableIo;
}

export interface ThroughputResult {
  phases: PhaseResult[];
  /** By phase name: `engine`. */
  engines: Record<string, EngineRun>;
}

const logger = pino({ level: 'silent' });

interface Bodies {
  body(i: number): { id: string; text: string };
}

/** Webhook-shaped bodies (the default payload of DESIGN.md) around realistic answers. */
function webhookBodies(formId: string, title: string): Bodies {
  const random = seededRandom(3);
  const answers = Array.from({ length: 1000 }, (_, i) => JSON.stringify(makeAnswers(random, i)));
  const at = new Date().toISOString();
  return {
    body(i) {
      const id = randomUUID();
      const text =
        `{"event":"response.submitted","delivery_id":"${randomUUID()}","created_at":"${at}",` +
        `"form":{"id":"${formId}","title":${JSON.stringify(title)}},"response":{"id":"${id}","form_id":"${formId}",` +
        `"data":${answers[i % answers.length]},"completed":true,"submitted_at":"${at}","updated_at":"${at}","metadata":{}}}`;
      return { id, text };
    },
  };
}

/** Headers like the webhook plugin's (same names, same sizes; static signatures). */
function webhookHeaders(id: string): Record<string, string> {
  const stamp = String(Math.floor(Date.now() / 1000));
  return {
    'user-agent': 'formhub-webhooks/1.0',
    'content-type': 'application/json',
    'x-webhook-id': id,
    'x-webhook-timestamp': stamp,
    'x-webhook-signature': `sha256=${'0'.repeat(64)}`,
    'webhook-id': id,
    'webhook-timestamp': stamp,
    'webhook-signature': `v1,${'A'.repeat(43)}=`,
  };
}

/** One POST as the engine's recording client makes it: undici request, body read in full. */
async function post(
  dispatcher: Dispatcher,
  url: string,
  bodies: Bodies,
  i: number,
): Promise<number> {
  const { id, text } = bodies.body(i);
  const res = await request(url, {
    method: 'POST',
    headers: webhookHeaders(id),
    body: text,
    dispatcher,
  });
  await res.body.arrayBuffer();
  return res.statusCode;
}

async function bareLoop(
  dispatcher: Dispatcher,
  url: string,
  bodies: Bodies,
  n: number,
  concurrency: number,
) {
  let next = 0;
  let errors = 0;
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      const status = await post(dispatcher, url, bodies, i).catch(() => 0);
      if (status !== 200) errors++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return errors;
}

async function redisInfo(redis: Redis) {
  return parseCommandStats(await redis.info('commandstats'));
}

export async function redisPid(redis: Redis): Promise<number> {
  const info = await redis.info('server');
  return Number(/process_id:(\d+)/.exec(info)?.[1] ?? 0);
}

/** Runs one phase and measures it; `run` resolves once the receiver has everything. */
export async function measurePhase(
  name: string,
  ctx: { receiver: ReceiverProcess; redis: Redis; redisPid: number; databaseUrl: string },
  path: string,
  expected: number,
  run: () => Promise<number>,
): Promise<PhaseResult> {
  const { receiver, redis } = ctx;
  await receiver.reset(path);
  const pgBefore = cpuSnapshot(await backendPids(ctx.databaseUrl));
  const before = {
    self: process.cpuUsage(),
    receiver: cpuOf(receiver.pid),
    redis: cpuOf(ctx.redisPid),
    machine: machineCpuMs().busy,
    commands: await redisInfo(redis),
    at: performance.now(),
    elu: performance.eventLoopUtilization(),
  };
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const errors = await run();
  delay.disable();
  const wall = performance.now() - before.at;
  const selfUsage = process.cpuUsage(before.self);
  const selfMs = (selfUsage.user + selfUsage.system) / 1000;
  const receiverMs = cpuOf(receiver.pid) - before.receiver;
  const redisMs = cpuOf(ctx.redisPid) - before.redis;
  const pgMs = cpuSince(pgBefore, await backendPids(ctx.databaseUrl));
  const machineMs = machineCpuMs().busy - before.machine;
  const elu = performance.eventLoopUtilization(before.elu);
  const commands = commandStatsDelta(before.commands, await redisInfo(redis));
  const summary = await receiver.summary(path);
  const spanMs =
    summary.first !== null && summary.last !== null ? summary.last - summary.first : NaN;
  const pct = (ms: number) => round((100 * ms) / wall, 0);
  const per = (ms: number) => round(ms / expected, 3);
  const calls = commands.reduce((sum, c) => sum + c.calls, 0);
  return {
    name,
    requests: summary.requests,
    errors,
    bodyBytes: summary.meanBytes,
    spanMs,
    perSecond: (summary.requests - 1) / (spanMs / 1000),
    cpu: {
      sender: pct(selfMs),
      receiver: pct(receiverMs),
      postgres: pct(pgMs),
      redis: pct(redisMs),
      machine: pct(machineMs),
    },
    cpuPerDelivery: {
      sender: per(selfMs),
      receiver: per(receiverMs),
      postgres: per(pgMs),
      redis: per(redisMs),
    },
    eventLoop: {
      utilisation: round(elu.utilization, 2),
      delayP50: round(delay.percentile(50) / 1e6, 1),
      delayP99: round(delay.percentile(99) / 1e6, 1),
    },
    redisCallsPerDelivery: round(calls / expected, 2),
    redisTopCommands: commands
      .slice(0, 6)
      .map((c) => ({ command: c.command, perDelivery: round(c.calls / expected, 2) })),
  };
}

/** The engine's statements by kind. */
function deliveryLabel(sql: string): string {
  const s = sql.replace(/\s+/g, ' ').trim();
  if (s.startsWith('UPDATE deliveries SET locked_until'))
    return 'claimDelivery: UPDATE deliveries ... RETURNING';
  if (s.startsWith('UPDATE deliveries d SET locked_until'))
    return 'claimDeliveries (batch): UPDATE deliveries FROM unnest';
  if (s.startsWith('WITH u AS'))
    return 'recordAttempts (batch): INSERT delivery_attempts + UPDATE deliveries FROM json_to_recordset';
  if (s.startsWith('WITH logged AS'))
    return 'recordAttempt: INSERT delivery_attempts + UPDATE deliveries';
  if (/FROM integrations WHERE id = \$1/.test(s)) return 'findIntegrationById: SELECT integrations';
  if (s.startsWith('UPDATE integrations SET failing_since = NULL'))
    return 'markHealthy: UPDATE integrations (no-op)';
  if (s.startsWith('UPDATE integrations SET failing_since = COALESCE'))
    return 'markFailing: UPDATE integrations';
  if (s.includes('FROM delivery_schedule s JOIN deliveries')) return 'sweeper: overdue deliveries';
  if (s.includes('FROM outbox WHERE dispatched_at IS NULL')) return 'relay: lock pending events';
  if (s.includes('FROM outbox WHERE aggregated_at IS NULL'))
    return 'analytics: lock unaggregated events';
  return s.slice(0, 60);
}

/** N committed responses and their `response.submitted` events (already counted by analytics). */
export async function insertSubmitted(
  db: Database,
  form: { id: string; workspace_id: string; version: number },
  n: number,
) {
  const random = seededRandom(11);
  const chunk = 2_000;
  for (let start = 0; start < n; start += chunk) {
    const count = Math.min(chunk, n - start);
    const ids: string[] = [];
    const eventIds: string[] = [];
    const data: string[] = [];
    const payloads: string[] = [];
    const times: string[] = [];
    for (let i = 0; i < count; i++) {
      const id = uuidv7();
      const at = new Date().toISOString();
      const answers = makeAnswers(random, start + i);
      const response = {
        id,
        form_id: form.id,
        data: answers,
        completed: true,
        submitted_at: at,
        updated_at: at,
        metadata: {},
      };
      ids.push(id);
      eventIds.push(uuidv7());
      data.push(JSON.stringify(answers));
      payloads.push(JSON.stringify({ response }));
      times.push(at);
    }
    await db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO responses (id, workspace_id, form_id, form_version, data, completed, metadata, submitted_at, updated_at)
         SELECT u.id, $2, $3, $4, u.data, true, '{}', u.at, u.at
         FROM unnest($1::uuid[], $5::jsonb[], $6::timestamptz[]) AS u(id, data, at)`,
        [ids, form.workspace_id, form.id, form.version, data, times],
      );
      await tx.query(
        `INSERT INTO outbox (id, workspace_id, form_id, event_type, payload, created_at, aggregated_at)
         SELECT u.id, $2, $3, 'response.submitted', u.payload, u.at, now()
         FROM unnest($1::uuid[], $4::jsonb[], $5::timestamptz[]) AS u(id, payload, at)`,
        [eventIds, form.workspace_id, form.id, payloads, times],
      );
    });
  }
}

async function api(
  hub: TestHub,
  key: string,
  method: 'POST' | 'GET',
  url: string,
  payload?: unknown,
) {
  const res = await hub.request({
    method,
    url,
    key,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  return res.json() as Record<string, unknown>;
}

/** The pg.Pool inside the hub's PgDatabase (private; read for sampling only). */
function poolOf(
  db: Database,
): { waitingCount: number; totalCount: number; idleCount: number } | undefined {
  return Reflect.get(db, 'pool') as
    { waitingCount: number; totalCount: number; idleCount: number } | undefined;
}

/**
 * One engine phase: `name` is the phase's name in the results, `run` tells phases of the
 * same name apart (their workspace and receiver path).
 */
async function runEngine(
  hub: TestHub,
  options: ThroughputOptions,
  receiver: ReceiverProcess,
  measureCtx: Parameters<typeof measurePhase>[1],
  name: 'engine' | 'engine-warm-up',
  run = 1,
) {
  const variant = `${name}-${run}`;
  const path = `/${variant}`;
  const ws = await hub.workspace(`bench ${variant}`);
  const form = await api(hub, ws.key, 'POST', '/api/v2/forms', BENCH_FORM);
  const formId = String(form.id);
  const webhook = await api(hub, ws.key, 'POST', `/api/v2/forms/${formId}/webhooks`, {
    url: `${receiver.base}${path}`,
  });
  await insertSubmitted(
    hub.db,
    { id: formId, workspace_id: ws.id, version: Number(form.version ?? 1) },
    options.deliveries,
  );

  const plugins = await loadAllPlugins(hub.config, logger);
  const secrets = new SecretBox(Buffer.from(hub.config.encryptionKey!, 'base64'));
  const queue = new BullDeliveryQueue(hub.config);
  // The real relay fills the queue before any worker runs.
  const relay = new OutboxRelay(hub.db, queue, logger);
  const relayStarted = performance.now();
  let relayed = 0;
  for (let round = 0; round < options.deliveries / 100 + 10; round++) {
    const taken = await relay.tick();
    relayed += taken;
    if (taken === 0) break;
  }
  const relayMs = performance.now() - relayStarted;
  const counts = await queue.counts();
  // The relay queues its new deliveries in groups of GROUP_SIZE attempts per job.
  const jobs = Math.ceil(options.deliveries / GROUP_SIZE);
  if ((counts.waiting ?? 0) + (counts.prioritized ?? 0) < jobs) {
    throw new Error(
      `the relay queued ${JSON.stringify(counts)}, not ${jobs} jobs of ${options.deliveries} attempts`,
    );
  }

  let profile: QueryProfile | undefined;
  const attempts: { ms: number; dbMs: number }[] = [];
  const originalAttempt = DeliveryEngine.prototype.attempt;
  if (options.profile) {
    const installed = installQueryProfile(hub.db, deliveryLabel);
    profile = installed;
    DeliveryEngine.prototype.attempt = async function (this: DeliveryEngine, job) {
      const r = await installed.scoped(() => originalAttempt.call(this, job));
      attempts.push({ ms: r.ms, dbMs: r.dbMs });
    };
  }
  const pool = poolOf(hub.db);
  const poolSamples: { waiting: number; inUse: number }[] = [];
  const poolTimer = setInterval(() => {
    if (pool)
      poolSamples.push({ waiting: pool.waitingCount, inUse: pool.totalCount - pool.idleCount });
  }, 20);
  // The relay's own counts settle first, so that the phase's are the worker's alone.
  const tablesBefore = await snapshotTables(hub.config.database.url!, 1_200);
  const sampler = await startPgSampler(hub.config.database.url!);
  let running: { close(): Promise<void> } | undefined;
  let cpuProfiler: CpuProfiler | undefined;
  let cpu: CpuProfileSummary | undefined;
  const restore = () => {
    clearInterval(poolTimer);
    DeliveryEngine.prototype.attempt = originalAttempt;
    profile?.uninstall();
  };
  try {
    const phase = await measurePhase(name, measureCtx, path, options.deliveries, async () => {
      if (options.cpuProfile && name === 'engine' && run === 1)
        cpuProfiler = await startCpuProfile();
      running = await startWorker({
        config: hub.config,
        db: hub.db,
        redis: hub.redis,
        logger,
        plugins,
        secrets,
        queue,
        concurrency: options.concurrency,
      });
      const s = await receiver.waitFor(path, options.deliveries, options.phaseTimeoutMs);
      cpu = await cpuProfiler?.stop();
      cpuProfiler = undefined;
      return s.requests - s.ok;
    });
    const waits = await sampler.stop();
    restore();
    // Every delivery must be logged as succeeded before the worker stops.
    const deadline = Date.now() + 60_000;
    let succeeded = 0;
    while (Date.now() < deadline) {
      const { rows } = await hub.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM deliveries WHERE integration_id = $1 AND status = 'succeeded'`,
        [String(webhook.id)],
      );
      succeeded = rows[0]?.n ?? 0;
      if (succeeded >= options.deliveries) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const tables = tableIoBetween(
      tablesBefore,
      await snapshotTables(hub.config.database.url!, 1_200),
      options.deliveries,
    );
    const dump = await receiver.dump(path);
    const distinct = new Set(dump.webhookId).size;
    const engineCheck = {
      succeeded,
      distinctWebhookIds: distinct,
      duplicateRequests: dump.webhookId.length - distinct,
    };
    let engineProfile: EngineProfile | undefined;
    if (profile) {
      const n = options.deliveries;
      const statements = profile.stats().map((s) => ({
        ...s,
        totalMs: round(s.totalMs, 0),
        maxMs: round(s.maxMs, 1),
        perDelivery: round(s.calls / n, 3),
        meanMs: round(s.totalMs / Math.max(1, s.calls), 2),
      }));
      const times = Float64Array.from(attempts.map((a) => a.ms));
      const p = percentiles(times);
      const meanMs = attempts.reduce((sum, a) => sum + a.ms, 0) / Math.max(1, attempts.length);
      const dbMeanMs = attempts.reduce((sum, a) => sum + a.dbMs, 0) / Math.max(1, attempts.length);
      const perJobMs = (1000 * options.concurrency) / phase.perSecond;
      const mean = (values: number[]) =>
        values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
      engineProfile = {
        statements,
        queriesPerDelivery: round(
          statements
            .filter((s) => !s.label.startsWith('(transaction'))
            .reduce((sum, s) => sum + s.calls, 0) / n,
          2,
        ),
        attempt: {
          meanMs: round(meanMs, 2),
          p50: round(p.p50, 2),
          p95: round(p.p95, 2),
          dbMeanMs: round(dbMeanMs, 2),
          otherMeanMs: round(meanMs - dbMeanMs, 2),
        },
        outsideAttemptMs: round(perJobMs - meanMs, 2),
        pool: {
          meanWaiting: round(mean(poolSamples.map((s) => s.waiting)), 1),
          maxWaiting: Math.max(0, ...poolSamples.map((s) => s.waiting)),
          meanInUse: round(mean(poolSamples.map((s) => s.inUse)), 1),
        },
        waits,
        cpu,
      };
    }
    return {
      phase,
      relay: { events: relayed, ms: relayMs, perSecond: relayed / (relayMs / 1000) },
      engineProfile,
      engineCheck,
      tables,
    };
  } finally {
    restore();
    await sampler.stop().catch(() => undefined);
    await cpuProfiler?.stop().catch(() => undefined);
    await running?.close();
    await queue.close();
  }
}

async function runBullmqAlone(
  hub: TestHub,
  options: ThroughputOptions,
  receiver: ReceiverProcess,
  dispatcher: Dispatcher,
  bodies: Bodies,
  measureCtx: Parameters<typeof measurePhase>[1],
): Promise<PhaseResult> {
  const prefix = `${hub.config.redis.prefix}bull`;
  const connection = new Redis(hub.config.redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue('bench-bare', {
    connection,
    prefix,
    defaultJobOptions: { removeOnComplete: true, removeOnFail: true, attempts: 3 },
  });
  for (let start = 0; start < options.deliveries; start += 1_000) {
    const jobs = Array.from({ length: Math.min(1_000, options.deliveries - start) }, (_, k) => ({
      name: 'post',
      data: { i: start + k },
      opts: { jobId: `bare-${start + k}-a1` },
    }));
    await queue.addBulk(jobs);
  }
  const url = `${receiver.base}/bullmq`;
  let worker: Worker | undefined;
  const workerConnection = new Redis(hub.config.redis.url, { maxRetriesPerRequest: null });
  try {
    return await measurePhase('bullmq', measureCtx, '/bullmq', options.deliveries, async () => {
      let errors = 0;
      worker = new Worker(
        'bench-bare',
        async (job) => {
          const status = await post(dispatcher, url, bodies, Number((job.data as { i: number }).i));
          if (status !== 200) errors++;
        },
        {
          connection: workerConnection,
          prefix,
          concurrency: options.concurrency,
          stalledInterval: 15_000,
          lockDuration: hub.config.webhooks.timeoutMs + 20_000,
        },
      );
      await receiver.waitFor('/bullmq', options.deliveries, options.phaseTimeoutMs);
      return errors;
    });
  } finally {
    await worker?.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    workerConnection.disconnect();
    connection.disconnect();
  }
}

export async function runThroughput(
  options: ThroughputOptions,
  receiver: ReceiverProcess,
): Promise<ThroughputResult> {
  const hub = await startHub({
    DATABASE_POOL_MIN: '10',
    DATABASE_POOL_MAX: String(options.poolMax),
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    LOG_LEVEL: 'silent',
  });
  const dispatcher = createGuardedAgent({
    allowPrivate: true,
    timeoutMs: hub.config.webhooks.timeoutMs,
  });
  try {
    const measureCtx = {
      receiver,
      redis: hub.redis as unknown as Redis,
      redisPid: await redisPid(hub.redis as unknown as Redis),
      databaseUrl: hub.config.database.url!,
    };
    const bodies = webhookBodies(randomUUID(), BENCH_FORM.title);
    const bare = (name: string, path: string, n: number) =>
      measurePhase(name, measureCtx, path, n, () =>
        bareLoop(dispatcher, `${receiver.base}${path}`, bodies, n, options.concurrency),
      );
    await bare('warm-up', '/warm', options.warmup);
    const phases: PhaseResult[] = [];
    const engines: Record<string, EngineRun> = {};
    phases.push(await bare('bare', '/bare-1', options.deliveries));
    phases.push(await runBullmqAlone(hub, options, receiver, dispatcher, bodies, measureCtx));
    // The engine's code is compiled by a first, unmeasured run (the bare loop has its warm-up
    // too): a worker runs for days, so its steady state is what counts.
    const warmUp = {
      ...options,
      deliveries: options.engineWarmup,
      profile: false,
      cpuProfile: false,
    };
    await runEngine(hub, warmUp, receiver, measureCtx, 'engine-warm-up');
    // Rounds of (engine, bare): the machine's speed drifts by tens of percent within a run,
    // so the ratio is taken between medians of several phases measured in turn.
    for (let round = 1; round <= options.rounds; round++) {
      const profiled = round === 1 && (options.profile || options.cpuProfile);
      const run = await runEngine(
        hub,
        { ...options, profile: options.profile && round === 1 },
        receiver,
        measureCtx,
        'engine',
        round,
      );
      phases.push({ ...run.phase, profiled });
      engines[`engine-${round}`] = {
        relay: run.relay,
        profile: run.engineProfile,
        check: run.engineCheck,
        tables: run.tables,
      };
      phases.push(await bare('bare', `/bare-${round + 1}`, options.deliveries));
    }
    return { phases, engines };
  } finally {
    await dispatcher.close();
    await hub.close();
  }
}
