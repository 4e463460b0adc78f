/**
 * The record to send: each mapped Salesforce field gets the value of its key in the flat
 * response (`flattenResponse`). Keys the response lacks are left out, so Salesforce applies
 * its defaults and required-field checks; lists (multi-select answers) become `;`-joined
 * strings, as multi-select picklists take them; objects become JSON text. With an external
 * id field, that field is set to the response id, whatever the mapping says.
 *
 * @example
 * buildRecord({ LastName: 'last', Formhub_Id__c: 'x' }, { id: 'r1', last: 'Lovelace' }, 'Formhub_Id__c');
 * // { LastName: 'Lovelace', Formhub_Id__c: 'r1' }
 */
export function buildRecord(
  mapping: Readonly<Record<string, string>>,
  flat: Readonly<Record<string, unknown>>,
  externalIdField?: string,
): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [field, key] of Object.entries(mapping)) {
    if (!Object.hasOwn(flat, key) || flat[key] === undefined) continue;
    record[field] = fieldValue(flat[key]);
  }
  if (externalIdField !== undefined) record[externalIdField] = flat.id;
  return record;
}

/** A response value as a Salesforce field value. */
function fieldValue(value: unknown): unknown {
  if (Array.isArray(value))
    return value.map((item) => (typeof item === 'string' ? item : JSON.stringify(item))).join(';');
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return value;
}
