/**
 * The hostile values the fuzzer draws from, by input class. Each class is a label (used to
 * de-duplicate failures) and the values it stands for.
 */

/** Percent-encodes `raw` as a URL component, lone surrogates as their WTF-8 bytes (`\uD800` -> `%ED%A0%80`), which encodeURIComponent refuses. */
export function encodeComponent(raw: string): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const unit = raw.charCodeAt(i);
    const next = raw.charCodeAt(i + 1);
    if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      out += encodeURIComponent(raw.slice(i, i + 2));
      i++;
    } else if (unit >= 0xd800 && unit <= 0xdfff) {
      out +=
        `%${(0xe0 | (unit >> 12)).toString(16)}%${(0x80 | ((unit >> 6) & 0x3f)).toString(16)}%${(0x80 | (unit & 0x3f)).toString(16)}`.toUpperCase();
    } else out += encodeURIComponent(raw[i] ?? '');
  }
  return out;
}

const NIL = '00000000-0000-0000-0000-000000000000';
const SAMPLE_UUID = '0193a8e2-7c3d-7f00-9a1b-2c3d4e5f6a7b';

/** A path id by class: `raw` is encoded with encodeComponent, `encoded` is sent as it is. */
export type PathValue = { raw: string } | { encoded: string };

/** Malformed path ids; `@real` stands for the real id of workspace A's object. */
export const PATH_CLASSES: Record<string, PathValue[]> = {
  'random-string': [
    { raw: 'abc' },
    { raw: 'hello world' },
    { raw: '<script>' },
    { raw: "' OR 1=1 --" },
  ],
  'long-over-100': [
    { raw: 'a'.repeat(101) },
    { raw: `@real${'0'.repeat(200)}` },
    { raw: SAMPLE_UUID.repeat(40) },
  ],
  nul: [{ raw: '\u0000' }, { raw: '@real\u0000' }, { raw: 'a\u0000b' }],
  'lone-surrogate': [{ raw: '\uD800' }, { raw: '@real\uDFFF' }, { encoded: '%uD800' }],
  'dot-dot': [
    { encoded: '..' },
    { encoded: '..%2F..%2Fhealthz' },
    { encoded: '%2e%2e%2f%2e%2e' },
    { raw: '../' },
  ],
  'percent-encoding': [
    { encoded: '%' },
    { encoded: '%zz' },
    { encoded: '%252F' },
    { encoded: '%C0%AE' },
    { encoded: '%FF%FE' },
    { encoded: '%2F' },
  ],
  unicode: [{ raw: 'ü' }, { raw: '𝕏' }, { raw: '０１２３' }, { raw: '\u202e' }],
  'uuid-variant': [
    { raw: `{@real}` },
    { raw: NIL },
    { raw: 'ffffffff-ffff-ffff-ffff-ffffffffffff' },
    { raw: '@real ' },
    { raw: SAMPLE_UUID.replace(/-/g, '') },
    { raw: `urn:uuid:@real` },
  ],
  'number-like': [
    { raw: '0' },
    { raw: '-1' },
    { raw: '1e309' },
    { raw: 'NaN' },
    { raw: 'null' },
    { raw: 'undefined' },
    { raw: '__proto__' },
  ],
};

/** Hostile query values (raw, encoded with encodeComponent unless `encoded`). */
export const QUERY_CLASSES: Record<string, PathValue[]> = {
  'wrong-type': [{ raw: 'abc' }, { raw: '1.5' }, { raw: '[]' }, { raw: '{}' }, { raw: 'maybe' }],
  huge: [
    { raw: '1e309' },
    { raw: '99999999999999999999999' },
    { raw: '9007199254740993' },
    { raw: 'Infinity' },
  ],
  negative: [{ raw: '-1' }, { raw: '-0' }, { raw: '-99999999999' }],
  nan: [{ raw: 'NaN' }],
  empty: [{ raw: '' }],
  nul: [{ raw: 'a\u0000b' }, { raw: '\u0000' }],
  'lone-surrogate': [{ raw: '\uD800' }, { raw: 'x\uDC00' }],
  'long-2000': [{ raw: 'x'.repeat(2000) }, { raw: 'name,'.repeat(400) }],
  'date-extreme': [
    { raw: '-271821-04-20T00:00:00.000Z' },
    { raw: '+275760-09-13T00:00:00.000Z' },
    { raw: '0000-01-01' },
    { raw: '10000-01-01' },
    { raw: '-000001-01-01T00:00:00Z' },
  ],
  'offset-beyond-14': [
    { raw: '2026-01-01T00:00:00+16:00' },
    { raw: '2026-01-01T00:00:00-99:99' },
    { raw: '2026-01-01T00:00:00+14:01' },
  ],
  'date-garbage': [
    { raw: '2026-13-45' },
    { raw: '2026-02-30T25:61:61Z' },
    { raw: 'yesterday' },
    { raw: '1e12' },
  ],
  'dsl-json': [
    { raw: '{"data.name":"a\u0000"}' },
    { raw: '{"data.name":"\uD800"}' },
    { raw: '{"data.\u0000":1}' },
    { raw: '{"data.name":{"$regex":"(a+)+$"}}' },
    { raw: '{"$where":"sleep(10)"}' },
    { raw: '{"__proto__":{"polluted":1}}' },
    { raw: `{"data.age":{"$in":[${Array.from({ length: 1001 }, (_, i) => i).join(',')}]}}` },
    { raw: `{"$and":[${Array.from({ length: 201 }, (_, i) => `{"data.age":${i}}`).join(',')}]}` },
    { raw: `${'{"$and":['.repeat(300)}{}${']}'.repeat(300)}` },
    { raw: '{"submitted_at":{"$gte":"-271821-04-20T00:00:00Z"}}' },
    { raw: '{"data.seen":{"$lt":"2026-01-01T00:00:00+16:00"}}' },
    { raw: 'null' },
    { raw: '[]' },
    { raw: '"x"' },
    { raw: '{"data.name":' },
  ],
  // Cursors no listing could have made: each must be refused (400).
  'cursor-invalid': [
    { raw: '!!!' },
    { raw: cursor({ t: 'not a date', id: 'not a uuid' }) },
    { raw: cursor({ t: '\u0000', id: '\u0000' }) },
    { raw: cursor({ t: 1, id: 2 }) },
    { raw: Buffer.from('null').toString('base64url') },
    { raw: Buffer.from('{"t":"\uD800","id":"\uD800"}').toString('base64url') },
  ],
  // A time-and-id cursor (responses, deliveries) with a time out of range; id-only cursors ignore `t`.
  'cursor-bad-time': [
    { raw: cursor({ t: '-271821-04-20T00:00:00.000Z', id: SAMPLE_UUID }) },
    { raw: cursor({ t: '2026-01-01T00:00:00+16:00', id: SAMPLE_UUID }) },
    { raw: cursor({ t: '+275760-09-13T00:00:00.000Z', id: SAMPLE_UUID }) },
  ],
  // Well-formed but unusual cursors: an answer either way, never a 500.
  'cursor-odd': [
    { raw: cursor({ t: '2026-01-01T00:00:00Z', id: SAMPLE_UUID.toUpperCase() }) },
    { raw: cursor({ id: SAMPLE_UUID, t: '2026-01-01T00:00:00Z', extra: 'x'.repeat(300) }) },
  ],
};

function cursor(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Ways to break an otherwise valid JSON body at one node. `@deep` becomes 10,000 nested levels and `@wide` an array of 10,000 items when serialised (so a printed case stays short). */
export const FIELD_MUTATIONS: Record<string, unknown[]> = {
  'wrong-type': [12345, true, [], {}, 'str', null, [1, 'a', null]],
  nul: ['a\u0000b', '\u0000'],
  'lone-surrogate': ['\uD800', 'x\uDFFFy'],
  'long-2000': ['x'.repeat(2000)],
  'deep-10000': ['@deep'],
  'huge-number': [1e308, -1e308, 2 ** 64, 1.7976931348623157e308],
  negative: [-1, -0.5],
  'date-extreme': ['-271821-04-20T00:00:00.000Z', '+275760-09-13T00:00:00.000Z', '0000-00-00'],
  'offset-beyond-14': ['2026-01-01T00:00:00+16:00'],
  empty: ['', {}, []],
  'wide-array': ['@wide'],
  'dsl-like': [{ $regex: '(a+)+$' }, { $where: '1' }, { $gt: '\u0000' }],
};

/** Bodies that are not a JSON object as the route wants, sent as application/json. */
export const RAW_BODIES: Record<string, () => string | Buffer> = {
  'invalid-json': () => '{"data": {',
  'not-json': () => 'hello world',
  empty: () => '',
  'top-level-null': () => 'null',
  'top-level-array': () => '[1,2,3]',
  'top-level-string': () => '"x"',
  'top-level-number': () => '1e400',
  'proto-pollution': () => '{"__proto__":{"polluted":true},"data":{}}',
  'constructor-prototype': () => '{"constructor":{"prototype":{"polluted":true}},"data":{}}',
  'over-1mib': () => JSON.stringify({ data: { name: 'x'.repeat(1_100_000) } }),
  bom: () => '\uFEFF{"data":{}}',
  'invalid-utf8': () =>
    Buffer.concat([
      Buffer.from('{"data":{"name":"'),
      Buffer.from([0xff, 0xfe, 0xc0, 0xae]),
      Buffer.from('"}}'),
    ]),
  'utf16-bytes': () => Buffer.from('{"data":{}}', 'utf16le'),
  'raw-nul-byte': () => '{"data":{"name":"a\u0000"}}',
  'deep-10000-root': () => `${'['.repeat(10_000)}${']'.repeat(10_000)}`,
  ndjson: () => '{"data":{}}\n{"data":{}}\n',
  'duplicate-keys': () => '{"data":{},"data":{"__proto__":1}}',
};

/** Content types to send a (valid) JSON body under; `null` sends none. */
export const CONTENT_TYPES: (string | null)[] = [
  null,
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=fuzz',
  'application/xml',
  'application/octet-stream',
  'application/json; charset=utf-16',
  'application/json; charset=iso-8859-1',
  'application/x-ndjson',
  'APPLICATION/JSON',
  'application/json;;;',
  'application/vnd.api+json',
  '*/*',
  'garbage',
];

/** Hostile values for a header the route reads. `@key` is the sender's key, `@otherToken` a resume token of the other workspace. */
export const HEADER_VALUES: Record<string, string[]> = {
  long: ['x'.repeat(8000)],
  empty: ['', ' '],
  latin1: ['ÿé\u00a0'],
  comma: ['a, b'],
  'other-workspace-token': ['@otherToken'],
  'uuid-upper': ['0193A8E2-7C3D-7F00-9A1B-2C3D4E5F6A7B'],
};

/** Malformed `Authorization` values. */
export const AUTHORIZATION_VALUES: string[] = [
  'Bearer',
  'Bearer ',
  'Bearer  @key',
  'bearer @key',
  'Basic Zm9vOmJhcg==',
  'Bearer @keyx',
  `Bearer ${'k'.repeat(8000)}`,
  'Token @key',
  'Bearer @key, Bearer @key',
];

/** Other headers a client may send in any form. */
export const OTHER_HEADERS: Record<string, string[]> = {
  accept: ['application/xml', 'text/event-stream', '*/*;q=0', 'garbage'],
  'if-none-match': ['*', '"x"', `W/"${'a'.repeat(5000)}"`],
  'x-forwarded-for': ['garbage', '999.999.1.1', '::ffff:1.2.3.4, nonsense'],
  'content-encoding': ['gzip', 'br', 'identity, gzip', 'nonsense'],
};
