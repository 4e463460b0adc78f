import { forgetKey, storedKey } from './session.ts';

/** One entry of an error's `details`: the part of the request at fault, and why. */
export interface ErrorDetail {
  field: string;
  message: string;
}

/** An error answer of the API: its status and its own `{"error": {"code", "message", "details"}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }
}

type Listener = () => void;
const signedOut = new Set<Listener>();

/** Called when the API answers 401: the key is wrong or was revoked. */
export function onSignedOut(listener: Listener): () => void {
  signedOut.add(listener);
  return () => signedOut.delete(listener);
}

/** Sends a request under /api/v2 with the key in the Authorization header (never in the URL). */
export async function request(
  path: string,
  init: RequestInit = {},
  key = storedKey(),
): Promise<Response> {
  const headers = new Headers(init.headers);
  if (key) headers.set('authorization', `Bearer ${key}`);
  if (init.body !== undefined && !headers.has('content-type'))
    headers.set('content-type', 'application/json');
  let res: Response;
  try {
    res = await fetch(`/api/v2${path}`, {
      ...init,
      headers,
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
  } catch {
    throw new ApiError(
      0,
      'network',
      'The hub cannot be reached. Check your connection and try again.',
    );
  }
  if (res.ok) return res;
  const body = (await res.json().catch(() => undefined)) as
    { error?: { code?: string; message?: string; details?: ErrorDetail[] } } | undefined;
  const error = new ApiError(
    res.status,
    body?.error?.code ?? 'error',
    body?.error?.message ?? `The hub answered ${res.status}.`,
    Array.isArray(body?.error?.details) ? body.error.details : [],
  );
  if (res.status === 401 && key === storedKey()) {
    forgetKey();
    for (const listener of signedOut) listener();
  }
  throw error;
}

/** GET (or another method) and parse JSON. */
export async function json<T>(
  path: string,
  init: RequestInit = {},
  key?: string | null,
): Promise<T> {
  const res = await request(path, init, key === undefined ? storedKey() : key);
  return (await res.json()) as T;
}

/** POST a JSON body and parse the JSON answer. */
export function post<T>(path: string, body: unknown): Promise<T> {
  return json<T>(path, { method: 'POST', body: JSON.stringify(body) });
}

/** A 404 from a route the hub does not serve (a feature flag is off) rather than a missing thing. */
export function isMissingRoute(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404;
}
