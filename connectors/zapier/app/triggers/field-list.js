'use strict';

const { baseUrl } = require('../authentication');

/**
 * GET /api/v2/zapier/forms/:id/fields -> the form's fields as dropdown choices, for the
 * search's "Field" (Zapier passes the step's other inputs, so `form_id` is set).
 */
const perform = async (z, bundle) => {
  if (!bundle.inputData || !bundle.inputData.form_id) return [];
  const response = await z.request({
    url: `${baseUrl(bundle)}/api/v2/zapier/forms/${encodeURIComponent(bundle.inputData.form_id)}/fields`,
  });
  // Zapier wants an `id` on every trigger result; the field key is unique in a form.
  return response.data.map((field) => ({ id: field.key, ...field }));
};

module.exports = {
  key: 'field_list',
  noun: 'Field',
  display: {
    label: 'List Fields',
    description: "A form's fields, for the field dropdown of Find Response.",
    hidden: true,
  },
  operation: {
    perform,
    sample: { id: 'email', key: 'email', label: 'Email address', type: 'email' },
    outputFields: [
      { key: 'id', label: 'Field key' },
      { key: 'key', label: 'Field key' },
      { key: 'label', label: 'Label' },
      { key: 'type', label: 'Type' },
    ],
  },
};
