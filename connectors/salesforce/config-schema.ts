import type { JsonSchema } from '@formhub/sdk';

/** The sObjects a form can create. */
export type SalesforceObject = 'Lead' | 'Contact';

/** An integration's configuration (DESIGN.md, "Connectors and the plugin SDK"). */
export interface SalesforceConfig {
  object: SalesforceObject;
  /** Salesforce field -> formhub data key, or `id` / `submitted_at` / `form_id`. */
  mapping: Record<string, string>;
  /** A custom External ID field that receives the formhub response id; the record is upserted on it. */
  external_id_field?: string;
  /** An access token, when no Nango connection is used. */
  token?: string;
  /** The org's instance URL, when no Nango connection gives one. */
  instance_url?: string;
}

/** A Salesforce field's API name, as the brief of issue 6 defines it. */
const FIELD_NAME = '^[A-Za-z][A-Za-z0-9_]*(__c)?$';

/**
 * The config schema. Mapping keys that jsforce strips from the record it sends (`Id`,
 * `type`, `attributes`) are refused here rather than silently dropped; the external id
 * field must be a custom field (`__c`), since no standard Lead or Contact field can hold a
 * formhub id as an External ID.
 */
export const configSchema: JsonSchema = {
  type: 'object',
  required: ['object', 'mapping'],
  additionalProperties: false,
  properties: {
    object: {
      type: 'string',
      enum: ['Lead', 'Contact'],
      description: 'The sObject each response creates',
    },
    mapping: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: FIELD_NAME, not: { enum: ['Id', 'type', 'attributes'] } },
      additionalProperties: { type: 'string', minLength: 1 },
      description: 'Salesforce field API name -> a data key of the response, or id / submitted_at',
      examples: [{ LastName: 'last', Company: 'company', Email: 'email' }],
    },
    external_id_field: {
      type: 'string',
      pattern: '^[A-Za-z][A-Za-z0-9_]*__c$',
      description:
        'A custom text field marked External ID (e.g. Formhub_Id__c): it receives the response id and the record is upserted on it, so a replay never creates a second record',
    },
    token: {
      type: 'string',
      minLength: 1,
      writeOnly: true,
      description: 'An OAuth access token (or use a Nango connection)',
    },
    instance_url: {
      type: 'string',
      format: 'uri',
      pattern: '^https?://',
      description:
        "The org's instance URL, e.g. https://acme.my.salesforce.com (a Nango connection gives its own)",
    },
  },
};
