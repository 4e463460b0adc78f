import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type TestHub } from '../support/hub.ts';

/**
 * Slow clients against a listening hub, over real sockets (DESIGN.md section 3a): a body
 * that never finishes arriving is answered 408 and its socket closed within
 * HTTP_REQUEST_TIMEOUT (1 s here); an idle keep-alive socket is closed too.
 */
const REQUEST_TIMEOUT_MS = 1000;
/** Node checks the deadlines on a timer (every 250 ms with a 1 s timeout), plus a loaded machine. */
const SLACK_MS = 4000;

let hub: TestHub;
let port: number;
let formId: string;

beforeAll(async () => {
  hub = await startHub({ HTTP_REQUEST_TIMEOUT: `${REQUEST_TIMEOUT_MS}ms` });
  await hub.app.listen({ port: 0, host: '127.0.0.1' });
  port = (hub.app.server.address() as { port: number }).port;
  const ws = await hub.workspace();
  const form = await hub.request({
    method: 'POST',
    url: '/api/v2/forms',
    key: ws.key,
    payload: { title: 'T', fields: [{ key: 'q', type: 'text' }] },
  });
  formId = form.json().id as string;
});

afterAll(() => hub?.close());

interface Closed {
  received: string;
  ms: number;
}

/** Opens a socket and resolves when the server closes it, with what it sent; rejects past `deadlineMs`. */
function openUntilClosed(onOpen: (socket: Socket) => void, deadlineMs: number): Promise<Closed> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const deadline = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(`the server kept the socket open for ${deadlineMs} ms; it sent: ${received}`),
      );
    }, deadlineMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', () => undefined); // a reset after the answer is a close as well
    socket.on('close', () => {
      clearTimeout(deadline);
      resolve({ received, ms: Date.now() - started });
    });
    socket.on('connect', () => onOpen(socket));
  });
}

describe('slow and idle sockets', () => {
  it('answers a body that trickles in 408 in the error shape and closes the socket', async () => {
    let trickle: NodeJS.Timeout | undefined;
    const closed = await openUntilClosed((socket) => {
      socket.write(
        `POST /api/v2/forms/${formId}/responses HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
          'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"data":',
      );
      // A byte every 100 ms: never idle, never finished.
      trickle = setInterval(() => socket.writable && socket.write(' '), 100);
    }, REQUEST_TIMEOUT_MS + SLACK_MS);
    clearInterval(trickle);
    expect(closed.ms).toBeLessThan(REQUEST_TIMEOUT_MS + SLACK_MS);
    expect(closed.received).toMatch(/^HTTP\/1\.1 408 /);
    const body = JSON.parse(
      closed.received.slice(closed.received.indexOf('\r\n\r\n') + 4),
    ) as unknown;
    expect(body).toEqual({
      error: { code: 'invalid_request', message: expect.any(String), details: [] },
    });
    const { rows } = await hub.db.query('SELECT 1 FROM responses WHERE form_id = $1', [formId]);
    expect(rows).toHaveLength(0);
  });

  it('closes a socket that never sends its headers', async () => {
    const closed = await openUntilClosed((socket) => {
      socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    }, REQUEST_TIMEOUT_MS + SLACK_MS);
    expect(closed.received).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes an idle keep-alive socket after its answer', async () => {
    const closed = await openUntilClosed((socket) => {
      socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
    }, REQUEST_TIMEOUT_MS + SLACK_MS);
    expect(closed.received).toMatch(/^HTTP\/1\.1 200 /);
    expect(closed.received).toMatch(/keep-alive/i);
  });
});
