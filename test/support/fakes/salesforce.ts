import {
  createServer,
  type IncomingHttpHeaders,
  type ServerResponse,
  type Server,
} from 'node:http';

/**
 * A local stand-in for the slice of the Salesforce REST API that jsforce 3 uses to create
 * and upsert one record, with the request and answer shapes of Salesforce's REST API
 * Developer Guide ("Create a Record", "Upsert a Record Using an External ID", "Status Codes
 * and Error Responses"):
 *
 * - `POST /services/data/vXX.X/sobjects/{Lead|Contact}` -> 201 `{id, success, errors}`
 * - `PATCH /services/data/vXX.X/sobjects/{object}/{externalIdField}/{value}` -> 201
 *   `{id, success, errors, created: true}` for a new record; for an existing one 200 with
 *   `created: false` (API 46.0+) or 204 (older versions)
 * - `Authorization: Bearer <token>` checked against `tokens` (401 `INVALID_SESSION_ID`)
 * - required fields (Lead: LastName, Company; Contact: LastName), unknown fields and e-mail
 *   format validated as Salesforce does (400 `REQUIRED_FIELD_MISSING`, `INVALID_FIELD`,
 *   `INVALID_EMAIL_ADDRESS`), unknown objects and external id fields 404 `NOT_FOUND`
 * - injected failures (`failNext`): 500, 503, 403 `REQUEST_LIMIT_EXCEEDED`, a stall, a reset
 *
 * It also has the shape the SDK's `connectorContract` drives (`baseUrl`, `respondWith`,
 * `received`), so the connector can be run through the shared contract.
 *
 * @example
 * const sf = await startFakeSalesforce({ tokens: ['00D!token'] });
 * // integration config: { object: 'Lead', mapping: {...}, token: '00D!token', instance_url: sf.url }
 * expect(sf.recordsOf('Lead')).toHaveLength(1);
 */
export interface FakeSalesforce {
  /** The instance URL (no trailing slash). */
  url: string;
  /** Access tokens it accepts; add or delete to expire one. */
  tokens: Set<string>;
  /** Every request received, oldest first (bodies as text). */
  requests: SalesforceRequest[];
  /** Every stored record, oldest first. */
  records: SalesforceRecord[];
  recordsOf(sobject: string): SalesforceRecord[];
  /** Makes the next `count` requests fail this way (a status code, or a failure), whatever they ask. */
  failNext(count: number, failure?: number | SalesforceFailure): void;
  /** The instance URL again, under the name the SDK's connector contract uses. */
  baseUrl: string;
  /** Answers every request from now on this way (the contract's `ok`, `4xx`, `429`, `5xx`, `hang`). */
  respondWith(answer: 'ok' | '4xx' | '429' | '5xx' | 'hang'): void;
  /** How many requests it has received. */
  received(): number;
  close(): Promise<void>;
}

export interface SalesforceRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface SalesforceRecord {
  Id: string;
  sobject: string;
  fields: Record<string, unknown>;
}

/** An injected failure: an HTTP answer, an answer after a delay, or a dropped connection. */
export interface SalesforceFailure {
  status?: number;
  /** JSON, or a string sent as an HTML page; defaults to Salesforce's body for the status (e.g. `SERVER_UNAVAILABLE` for 503). */
  body?: unknown;
  delayMs?: number;
  reset?: boolean;
  /** Never answer (until `close`). */
  hang?: boolean;
}

/** The lasting failures of `respondWith`; `ok` is none. */
const ANSWERS: Record<'4xx' | '429' | '5xx' | 'hang', SalesforceFailure> = {
  '4xx': {
    status: 400,
    body: [
      {
        message: 'Required fields are missing: [LastName]',
        errorCode: 'REQUIRED_FIELD_MISSING',
        fields: ['LastName'],
      },
    ],
  },
  // Salesforce itself signals its API limits with 403 REQUEST_LIMIT_EXCEEDED (see failNext(1, 403)).
  '429': {
    status: 429,
    body: [{ message: 'Too many requests', errorCode: 'REQUEST_LIMIT_EXCEEDED' }],
  },
  '5xx': { status: 503 },
  hang: { hang: true },
};

interface SalesforceError {
  message: string;
  errorCode: string;
  fields?: string[];
}

type Answer = { status: number; body?: unknown };

const KEY_PREFIXES: Record<string, string> = { Lead: '00Q', Contact: '003' };

const REQUIRED: Record<string, string[]> = { Lead: ['LastName', 'Company'], Contact: ['LastName'] };

/** The standard fields a form would plausibly fill; custom fields (`__c`) are always accepted. */
const STANDARD_FIELDS: Record<string, Set<string>> = {
  Lead: new Set([
    'FirstName',
    'LastName',
    'Salutation',
    'Company',
    'Title',
    'Email',
    'Phone',
    'MobilePhone',
    'Website',
    'Description',
    'LeadSource',
    'Status',
    'Industry',
    'Rating',
    'NumberOfEmployees',
    'Street',
    'City',
    'State',
    'PostalCode',
    'Country',
    'HasOptedOutOfEmail',
    'OwnerId',
  ]),
  Contact: new Set([
    'FirstName',
    'LastName',
    'Salutation',
    'Title',
    'Department',
    'Email',
    'Phone',
    'MobilePhone',
    'Description',
    'LeadSource',
    'Birthdate',
    'AccountId',
    'MailingStreet',
    'MailingCity',
    'MailingState',
    'MailingPostalCode',
    'MailingCountry',
    'HasOptedOutOfEmail',
    'OwnerId',
  ]),
};

/** Salesforce's bodies for the failures a test injects by status alone. */
const DEFAULT_FAILURE_BODIES: Record<number, SalesforceError[]> = {
  403: [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }],
  500: [
    {
      message:
        'An unexpected error occurred. Please include this ErrorId if you contact support: 1234567-89 (-1)',
      errorCode: 'UNKNOWN_EXCEPTION',
    },
  ],
  503: [
    {
      message: 'Server temporarily unavailable: please try again later.',
      errorCode: 'SERVER_UNAVAILABLE',
    },
  ],
};

const SOBJECT_PATH = /^\/services\/data\/v(\d+)\.\d+\/sobjects\/([^/]+)(?:\/([^/]+)\/([^/]+))?$/;

/** Starts the fake on 127.0.0.1 with a random port. */
export async function startFakeSalesforce(
  options: { tokens?: string[] } = {},
): Promise<FakeSalesforce> {
  const tokens = new Set(options.tokens ?? ['00Dfake!token']);
  const requests: SalesforceRequest[] = [];
  const records: SalesforceRecord[] = [];
  const failures: { remaining: number; failure: SalesforceFailure } = { remaining: 0, failure: {} };
  let lasting: SalesforceFailure | undefined;
  let apiUsage = 0;

  const handle = (request: SalesforceRequest): Answer => {
    if (
      request.headers.authorization === undefined ||
      !tokens.has(request.headers.authorization.replace(/^Bearer /, ''))
    ) {
      return error(401, { message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' });
    }
    const match = SOBJECT_PATH.exec(request.path);
    if (!match)
      return error(404, {
        message: 'The requested resource does not exist',
        errorCode: 'NOT_FOUND',
      });
    const [, major, sobject = '', extField, extValue] = match;
    if (!(sobject in KEY_PREFIXES)) {
      return error(404, {
        message: 'The requested resource does not exist',
        errorCode: 'NOT_FOUND',
      });
    }
    let fields: Record<string, unknown>;
    try {
      fields = JSON.parse(request.body) as Record<string, unknown>;
    } catch {
      return error(400, {
        message: 'Unexpected character in the request body',
        errorCode: 'JSON_PARSER_ERROR',
      });
    }
    if (request.method === 'POST' && extField === undefined) return create(sobject, fields);
    if (request.method === 'PATCH' && extField !== undefined && extValue !== undefined) {
      return upsert(sobject, extField, decodeURIComponent(extValue), fields, Number(major));
    }
    const allowed = extField === undefined ? 'HEAD,GET,POST' : 'GET,PATCH,HEAD,DELETE';
    return error(405, {
      message: `HTTP Method '${request.method}' not allowed. Allowed are ${allowed}`,
      errorCode: 'METHOD_NOT_ALLOWED',
    });
  };

  const create = (sobject: string, fields: Record<string, unknown>): Answer => {
    const problem = validate(sobject, fields);
    if (problem) return error(400, problem);
    const record = { Id: newId(sobject, records.length + 1), sobject, fields };
    records.push(record);
    return { status: 201, body: { id: record.Id, success: true, errors: [] } };
  };

  const upsert = (
    sobject: string,
    extField: string,
    extValue: string,
    fields: Record<string, unknown>,
    major: number,
  ): Answer => {
    if (!extField.endsWith('__c')) {
      return error(404, {
        message: `Provided external ID field does not exist or is not accessible: ${extField}`,
        errorCode: 'NOT_FOUND',
      });
    }
    const existing = records.find((r) => r.sobject === sobject && r.fields[extField] === extValue);
    const merged = { ...existing?.fields, ...fields, [extField]: extValue };
    const problem = validate(sobject, merged);
    if (problem) return error(400, problem);
    if (existing) {
      existing.fields = merged;
      // Before API 46.0 an update answered 204 No Content.
      if (major < 46) return { status: 204 };
      return { status: 200, body: { id: existing.Id, success: true, errors: [], created: false } };
    }
    const record = { Id: newId(sobject, records.length + 1), sobject, fields: merged };
    records.push(record);
    return { status: 201, body: { id: record.Id, success: true, errors: [], created: true } };
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        path: new URL(req.url ?? '/', 'http://salesforce.local').pathname,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(request);
      apiUsage += 1;
      if (failures.remaining > 0) {
        failures.remaining -= 1;
        return inject(res, failures.failure, apiUsage);
      }
      if (lasting) return inject(res, lasting, apiUsage);
      respond(res, handle(request), apiUsage);
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    tokens,
    requests,
    records,
    recordsOf: (sobject) => records.filter((r) => r.sobject === sobject),
    failNext(count, failure = 503) {
      failures.remaining = count;
      failures.failure = typeof failure === 'number' ? { status: failure } : failure;
    },
    baseUrl: `http://127.0.0.1:${port}`,
    respondWith(answer) {
      lasting = answer === 'ok' ? undefined : ANSWERS[answer];
    },
    received: () => requests.length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Salesforce's REST errors are an array of `{message, errorCode, fields?}`. */
function error(status: number, body: SalesforceError): Answer {
  return { status, body: [body] };
}

/** The first problem Salesforce would report for a record of `sobject`, if any. */
function validate(sobject: string, fields: Record<string, unknown>): SalesforceError | undefined {
  const known = STANDARD_FIELDS[sobject] ?? new Set();
  const unknown = Object.keys(fields).find((name) => !known.has(name) && !name.endsWith('__c'));
  if (unknown !== undefined) {
    return {
      message: `No such column '${unknown}' on sobject of type ${sobject}`,
      errorCode: 'INVALID_FIELD',
    };
  }
  const missing = (REQUIRED[sobject] ?? []).filter(
    (name) => fields[name] == null || fields[name] === '',
  );
  if (missing.length > 0) {
    return {
      message: `Required fields are missing: [${missing.join(', ')}]`,
      errorCode: 'REQUIRED_FIELD_MISSING',
      fields: missing,
    };
  }
  const email = fields.Email;
  if (typeof email === 'string' && email !== '' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
    return {
      message: `Email: invalid email address: ${email}`,
      errorCode: 'INVALID_EMAIL_ADDRESS',
      fields: ['Email'],
    };
  }
  return undefined;
}

/** An 18-character record id with the object's key prefix (Lead 00Q, Contact 003). */
function newId(sobject: string, n: number): string {
  return `${KEY_PREFIXES[sobject] ?? '001'}Hu00000${n.toString(36).toUpperCase().padStart(5, '0')}AAA`;
}

function respond(res: ServerResponse, answer: Answer, apiUsage: number): void {
  const headers: Record<string, string> = { 'sforce-limit-info': `api-usage=${apiUsage}/15000` };
  if (answer.body === undefined) {
    res.writeHead(answer.status, headers);
    return void res.end();
  }
  res.writeHead(answer.status, { ...headers, 'content-type': 'application/json;charset=UTF-8' });
  res.end(JSON.stringify(answer.body));
}

function inject(res: ServerResponse, failure: SalesforceFailure, apiUsage: number): void {
  const send = () => {
    if (failure.hang) return;
    if (failure.reset) return void res.socket?.destroy();
    const status = failure.status ?? 503;
    if (typeof failure.body === 'string') {
      // An HTML page, as a proxy or a maintenance window answers.
      res.writeHead(status, { 'content-type': 'text/html' });
      return void res.end(failure.body);
    }
    respond(res, { status, body: failure.body ?? DEFAULT_FAILURE_BODIES[status] ?? [] }, apiUsage);
  };
  if (failure.delayMs) setTimeout(send, failure.delayMs).unref();
  else send();
}
