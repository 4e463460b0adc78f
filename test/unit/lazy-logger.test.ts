import { Writable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { lazyChildLoggerFactory } from '../../src/http/index.ts';

function logger(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  const parent = pino({ level }, stream);
  let children = 0;
  const child = parent.child;
  parent.child = function (this: typeof parent, ...args: Parameters<typeof child>) {
    children++;
    return child.apply(this, args);
  } as typeof parent.child;
  return { parent: parent as unknown as FastifyBaseLogger, lines, children: () => children };
}

const make = (parent: FastifyBaseLogger, options = {}) =>
  lazyChildLoggerFactory.call(undefined as never, parent, { reqId: 'r-1' }, options, {} as never);

describe('lazyChildLoggerFactory', () => {
  it('makes no pino child for a request that logs nothing at an enabled level', () => {
    const { parent, lines, children } = logger('warn');
    const log = make(parent);
    log.info({ res: 1 }, 'request completed');
    log.debug('detail');
    expect(children()).toBe(0);
    expect(lines).toEqual([]);
    expect(log.level).toBe('warn');
  });

  it('writes what pino would, with the request id, once a level is enabled', async () => {
    const { parent, lines, children } = logger('info');
    const log = make(parent);
    log.info({ res: 1 }, 'request completed');
    log.error({ err: 'boom' }, 'failed');
    expect(children()).toBe(1); // one pino child for the request, made once
    log.child({ part: 'x' }).warn('inner');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map((l) => [l.reqId, l.msg, l.level])).toEqual([
      ['r-1', 'request completed', 30],
      ['r-1', 'failed', 50],
      ['r-1', 'inner', 40],
    ]);
    expect(lines[2]!.part).toBe('x');
    expect(lines[1]!.err).toBe('boom');
  });

  it('gives a route with its own log level its pino child at once', () => {
    const { parent, children } = logger('warn');
    const log = make(parent, { level: 'debug' });
    expect(children()).toBe(1);
    expect(log.level).toBe('debug');
  });
});

describe('lazyChildLoggerFactory in fastify', () => {
  it('logs a failing request with its id and nothing for a good one at warn', async () => {
    const { default: Fastify } = await import('fastify');
    const { parent, lines, children } = logger('warn');
    const app = Fastify({
      loggerInstance: parent,
      childLoggerFactory: lazyChildLoggerFactory,
      genReqId: () => 'req-42',
    });
    app.get('/ok', async () => ({ ok: true }));
    app.get('/boom', async (request) => {
      request.log.warn('about to fail');
      throw new Error('boom');
    });
    await app.ready();
    const before = children(); // fastify makes a child of its own for its serializers
    expect((await app.inject({ url: '/ok' })).statusCode).toBe(200);
    expect(children()).toBe(before);
    expect(lines).toEqual([]);
    expect((await app.inject({ url: '/boom' })).statusCode).toBe(500);
    await app.close();
    expect(lines.map((l) => [l.reqId, l.msg])).toEqual([
      ['req-42', 'about to fail'],
      ['req-42', 'boom'],
    ]);
  });
});
