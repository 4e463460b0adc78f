import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';

type LogMethod = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
type Bindings = Record<string, unknown>;
type ChildOptions = { level?: string } & Record<string, unknown>;

/**
 * A request's logger, made when it is first used. fastify gives every request a pino child
 * logger bound to its request id, and pino serialises those bindings as it makes the child:
 * about 6% of the CPU of a cached schema GET, spent on a logger that, at LOG_LEVEL=warn, a
 * successful request never writes to. This one forwards to the same child, made on the
 * first call at an enabled level (or on `child()`, or a level change): what is written,
 * and with which bindings, is what pino's own child would write.
 */
class LazyChildLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildOptions,
  ) {}

  get level(): string {
    return this.made?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.real().level = level;
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  silent(): void {}

  isLevelEnabled(level: string): boolean {
    return enabled(this.made ?? this.parent, level);
  }

  child(bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    return this.real().child(bindings, options);
  }

  private write(method: LogMethod, args: unknown[]): void {
    if (this.made === undefined && !enabled(this.parent, method)) return;
    (this.real()[method] as (...a: unknown[]) => void)(...args);
  }

  private real(): FastifyBaseLogger {
    this.made ??= this.parent.child(this.bindings, this.options);
    return this.made;
  }
}

/** pino's `isLevelEnabled`; a logger without it is taken to write everything. */
function enabled(logger: FastifyBaseLogger, level: string): boolean {
  const check = (logger as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled;
  return typeof check === 'function' ? check.call(logger, level) : true;
}

/**
 * fastify's `childLoggerFactory` with lazy children; a route with its own log level gets
 * pino's child at once (its level must hold from the first line).
 */
export const lazyChildLoggerFactory: NonNullable<FastifyServerOptions['childLoggerFactory']> =
  function (logger, bindings, options) {
    const opts = options as ChildOptions;
    if (opts.level !== undefined) return logger.child(bindings, options);
    return new LazyChildLogger(logger, bindings, opts) as unknown as FastifyBaseLogger;
  };
