'use strict';

const { baseUrl } = require('../authentication');
const { FORM_INPUT, RESPONSE_OUTPUT_FIELDS, outputFields } = require('../lib/fields');

/**
 * GET /api/v2/zapier/forms/:id/responses?field=&value= -> completed responses whose answer
 * to `field` matches `value`, newest first, at most 10, flat as the hooks deliver them.
 * How a value matches depends on the field's type (docs/zapier.md): numbers by value,
 * booleans as true/yes/1, a multiselect when its list holds the option, text whole and in
 * any case. Nothing found is an empty list (Zapier's "no result").
 */
const perform = async (z, bundle) => {
  const { form_id: formId, field, value } = bundle.inputData;
  const response = await z.request({
    url: `${baseUrl(bundle)}/api/v2/zapier/forms/${encodeURIComponent(formId)}/responses`,
    params: { field, value: String(value) },
  });
  return response.data;
};

module.exports = {
  key: 'find_response',
  noun: 'Response',
  display: {
    label: 'Find Response',
    description: 'Finds the latest response to a form whose answer to a field matches a value.',
  },
  operation: {
    inputFields: [
      { ...FORM_INPUT, helpText: 'The form to search.' },
      {
        key: 'field',
        label: 'Field',
        required: true,
        dynamic: 'field_list.key.label',
        helpText: 'The field to match on.',
      },
      {
        key: 'value',
        label: 'Value',
        required: true,
        helpText:
          'The answer to find. Text matches the whole answer in any case; numbers by value; yes/no for a checkbox; one option for a multiple choice.',
      },
    ],
    perform,
    sample: {
      id: '5d1c2a8e-7b1f-4f0e-8a43-2f4b9c6d1e20',
      form_id: '0b7f6a52-3a8e-4c4f-9a55-0d6f3f1f6a10',
      submitted_at: '2026-01-15T09:30:00.000Z',
      name: 'Ada Lovelace',
      email: 'ada@example.com',
    },
    outputFields: [...RESPONSE_OUTPUT_FIELDS, outputFields],
  },
};
