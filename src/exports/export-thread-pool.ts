import { Readable } from 'node:stream';
import { Worker, type MessagePort } from 'node:worker_threads';
import type { FormRow } from '../forms/index.ts';
import type { ExportParams } from './export-params.ts';
import {
  deserializeAppError,
  type ExportThreadInit,
  type FromThread,
  type ToThread,
} from './export-thread-protocol.ts';
import { countReceivedBytes } from './gc-hint.ts';

export interface ExportThreadPoolOptions extends ExportThreadInit {
  /** Most threads at once; an export past them waits for one to be free. */
  max?: number | undefined;
  /** An idle thread is ended after this long (its connections with it). */
  idleMs?: number | undefined;
  /** On the embedded database: a port to its PGlite thread, one per export. */
  openPort?: (() => MessagePort) | undefined;
}

export interface ThreadExportOptions {
  /** Aborting it stops the export (the stream fails with the signal's reason). */
  signal?: AbortSignal | undefined;
  /** Called after each page with the rows read so far; awaited before the stream ends. */
  onPage?: ((rowsRead: number) => void | Promise<void>) | undefined;
}

/** Threads at most: as many exports as run at once in one process in practice (3 per workspace). */
export const EXPORT_THREADS = 4;
/**
 * PDFs rendered at once per process, as src/reports/pdf/render-slots.ts allows in one thread:
 * each render holds fonts and layout, and more at once would only share the same cores.
 */
export const MAX_PDF_EXPORTS = 2;
/** An idle thread waits this long for the next export before it is ended. */
export const EXPORT_THREAD_IDLE_MS = 30_000;

/**
 * The heap of an export thread. Small on purpose: its forced full GCs (gc-hint.ts) then cost
 * little, and its garbage is collected early; a page of 256 KiB and a PDF's fonts fit well
 * within it. An export that outgrows it ends its thread (ERR_WORKER_OUT_OF_MEMORY) and
 * fails, the hub does not.
 */
const RESOURCE_LIMITS = { maxOldGenerationSizeMb: 192, maxYoungGenerationSizeMb: 8 };

interface Thread {
  worker: Worker;
  ready: Promise<void>;
  /** The export it runs, if any: where its messages go. */
  current?: ((message: FromThread) => void) | undefined;
  /** Fails the current export when the thread dies under it. */
  onExit?: ((error: Error) => void) | undefined;
  idleTimer?: NodeJS.Timeout | undefined;
  /** It exited: never given another export. */
  dead?: boolean;
}

/**
 * Export threads (export-thread.ts): each reads one export at a time from its own database
 * connection and formats it, so neither the export's garbage nor the full GCs that bound it
 * touch the main thread's heap or event loop. The main thread only receives the file's
 * bytes. Idle threads are reused, and ended after `idleMs`.
 */
export class ExportThreadPool {
  private readonly idle: Thread[] = [];
  private readonly threads = new Set<Thread>();
  private readonly waiting: ((thread: Thread) => void)[] = [];
  private nextId = 1;
  private closed = false;
  private pdfRunning = 0;
  private readonly pdfWaiting: (() => void)[] = [];

  constructor(private readonly options: ExportThreadPoolOptions) {}

  /**
   * Starts exporting `params` of `form` on a thread; resolves once the export's body is made
   * (a PDF's summary read), or rejects with its error (an AppError keeps its code).
   */
  async export(
    form: FormRow,
    params: ExportParams,
    options: ThreadExportOptions = {},
  ): Promise<Readable> {
    options.signal?.throwIfAborted();
    const releasePdf = params.format === 'pdf' ? await this.pdfSlot() : () => undefined;
    let thread: Thread;
    try {
      thread = await this.acquire();
    } catch (error) {
      releasePdf();
      throw error;
    }
    try {
      await thread.ready;
    } catch (error) {
      releasePdf();
      this.discard(thread);
      throw error;
    }
    return new Promise<Readable>((resolve, reject) => {
      const stream = new ThreadExportStream(thread, this.nextId++, options, () => {
        this.release(thread);
        releasePdf();
      });
      stream.started.then(() => resolve(stream), reject);
      stream.begin(form, params, this.options.openPort?.());
    });
  }

  /** Ends every thread: a running export fails, and none keeps the process alive. */
  async close(): Promise<void> {
    this.closed = true;
    this.idle.splice(0);
    await Promise.allSettled([...this.threads].map((thread) => thread.worker.terminate()));
  }

  /** Waits for one of the MAX_PDF_EXPORTS places; answers the function that gives it back. */
  private async pdfSlot(): Promise<() => void> {
    if (this.pdfRunning >= MAX_PDF_EXPORTS)
      await new Promise<void>((resolve) => this.pdfWaiting.push(resolve));
    else this.pdfRunning++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.pdfWaiting.shift();
      if (next)
        next(); // the place passes straight to the next PDF
      else this.pdfRunning--;
    };
  }

  private acquire(): Promise<Thread> {
    if (this.closed) return Promise.reject(new Error('the export threads are closed'));
    const thread = this.idle.pop();
    if (thread) {
      clearTimeout(thread.idleTimer);
      thread.worker.ref();
      return Promise.resolve(thread);
    }
    if (this.threads.size < (this.options.max ?? EXPORT_THREADS))
      return Promise.resolve(this.spawn());
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(thread: Thread): void {
    thread.current = undefined;
    thread.onExit = undefined;
    if (thread.dead) return; // its exit already made room for a waiting export
    const waiter = this.waiting.shift();
    if (waiter) return waiter(thread);
    if (this.closed) return void this.discard(thread);
    thread.idleTimer = setTimeout(() => {
      this.idle.splice(this.idle.indexOf(thread), 1);
      this.discard(thread);
    }, this.options.idleMs ?? EXPORT_THREAD_IDLE_MS).unref();
    thread.worker.unref(); // an idle thread does not keep the process alive
    this.idle.push(thread);
  }

  private discard(thread: Thread): void {
    // terminate() rejects only for a thread already gone, which is what is wanted here.
    thread.worker.terminate().catch(() => undefined);
  }

  private spawn(): Thread {
    const { databaseUrl, queryTimeoutMs, pdf } = this.options;
    const workerData: ExportThreadInit = { databaseUrl, queryTimeoutMs, pdf };
    const worker = new Worker(new URL('./export-thread-boot.mjs', import.meta.url), {
      workerData,
      resourceLimits: RESOURCE_LIMITS,
    });
    let started!: () => void;
    let failed!: (error: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      started = resolve;
      failed = reject;
    });
    ready.catch(() => undefined); // observed by export(); a rejection before then is not lost
    const thread: Thread = { worker, ready };
    this.threads.add(thread);
    worker.on('message', (message: FromThread) => {
      if (message.type === 'ready') started();
      else thread.current?.(message);
    });
    worker.on('error', (error) => {
      failed(error);
      thread.onExit?.(error);
    });
    worker.once('exit', (code) => {
      thread.dead = true;
      this.threads.delete(thread);
      const index = this.idle.indexOf(thread);
      if (index >= 0) this.idle.splice(index, 1);
      clearTimeout(thread.idleTimer);
      const error = new Error(`the export thread exited (${code})`);
      failed(error);
      thread.onExit?.(error);
      // A thread gone frees a place: one waiting export may start a new one.
      const waiter = this.closed ? undefined : this.waiting.shift();
      if (waiter) waiter(this.spawn());
    });
    return thread;
  }
}

/**
 * One export's bytes on the main thread. It asks the thread for a chunk only when its reader
 * wants more (`_read`), one at a time: the credit that carries HTTP backpressure to the queries.
 */
class ThreadExportStream extends Readable {
  readonly started: Promise<void>;
  private onStarted!: () => void;
  private onFailed!: (error: Error) => void;
  private pulling = false;
  /** `started` resolved: the caller has the stream and listens for its errors. */
  private handedOver = false;
  private finished = false;
  /** The job's progress saves, in order; the stream ends only after the last one. */
  private progress: Promise<void> = Promise.resolve();

  constructor(
    private readonly thread: Thread,
    private readonly id: number,
    private readonly options: ThreadExportOptions,
    private readonly release: () => void,
  ) {
    super({ highWaterMark: 64 * 1024 });
    this.started = new Promise((resolve, reject) => {
      this.onStarted = resolve;
      this.onFailed = reject;
    });
    this.started.catch(() => undefined); // observed by the pool's export()
    thread.current = (message) => this.receive(message);
    thread.onExit = (error) => this.fail(error);
    options.signal?.addEventListener('abort', this.abort, { once: true });
  }

  begin(form: FormRow, params: ExportParams, port?: MessagePort): void {
    const start: ToThread = { type: 'start', id: this.id, form, params, port };
    this.thread.worker.postMessage(start, port ? [port] : []);
  }

  override _read(): void {
    if (this.pulling || this.finished) return;
    this.pulling = true;
    this.post({ type: 'pull', id: this.id });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.onFailed(error ?? new Error('the export was cancelled')); // no-op once it started
    if (!this.finished) {
      this.post({ type: 'cancel', id: this.id });
      this.settle();
    }
    callback(error);
  }

  private readonly abort = () => {
    this.destroy(asError(this.options.signal?.reason ?? 'the export was cancelled'));
  };

  private receive(message: FromThread): void {
    if (this.finished) return;
    if (message.type === 'started') {
      this.handedOver = true;
      this.onStarted();
    } else if (message.type === 'chunk') {
      this.pulling = false;
      countReceivedBytes(message.bytes.byteLength);
      this.push(Buffer.from(message.bytes));
    } else if (message.type === 'progress') {
      const { onPage } = this.options;
      if (!onPage) return;
      // A progress save that fails fails the export, as it does in process.
      this.progress = this.progress
        .then(() => onPage(message.rowsRead))
        .catch((error: unknown) => void this.destroy(asError(error)));
    } else if (message.type === 'end') {
      this.settle();
      void this.progress.then(() => this.push(null));
    } else if (message.type === 'error') this.fail(deserializeAppError(message.error));
  }

  private fail(error: Error): void {
    if (this.finished) return;
    this.onFailed(error);
    this.settle();
    // Before it is handed over the error goes to export()'s caller; nobody listens here yet.
    this.destroy(this.handedOver ? error : undefined);
  }

  /** The thread is done with this export: it goes back to the pool. */
  private settle(): void {
    this.finished = true;
    this.options.signal?.removeEventListener('abort', this.abort);
    this.release();
  }

  private post(message: ToThread): void {
    this.thread.worker.postMessage(message);
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
