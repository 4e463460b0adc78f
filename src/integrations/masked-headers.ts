/**
 * Custom webhook header values are write-only (DESIGN.md 3a): they often hold credentials
 * (`Authorization`), so every answer shows each header's name with this in place of its
 * value, and a client that sends this back (e.g. after editing another header) keeps the
 * stored value.
 */
export const MASKED = '***';

/** The headers as the API shows them: names kept, values masked. */
export function maskHeaders(headers: unknown): Record<string, string> {
  if (!headers || typeof headers !== 'object') return {};
  return Object.fromEntries(Object.keys(headers).map((name) => [name, MASKED]));
}

/**
 * The headers a client sent, with every masked value replaced by the stored value of the
 * header of that name (header names are case-insensitive). A masked value with no stored
 * header behind it stays masked, for validation to refuse.
 *
 * @example restoreMaskedHeaders({ Authorization: '***', 'X-Team': 'b' }, { authorization: 'Bearer s' })
 * // { Authorization: 'Bearer s', 'X-Team': 'b' }
 */
export function restoreMaskedHeaders(sent: unknown, stored: unknown): unknown {
  if (!sent || typeof sent !== 'object' || Array.isArray(sent)) return sent;
  const byName = new Map<string, unknown>();
  if (stored && typeof stored === 'object') {
    for (const [name, value] of Object.entries(stored)) byName.set(name.toLowerCase(), value);
  }
  return Object.fromEntries(
    Object.entries(sent).map(([name, value]) => [
      name,
      value === MASKED ? (byName.get(name.toLowerCase()) ?? value) : value,
    ]),
  );
}
