'use strict';

const { baseUrl } = require('../authentication');
const {
  FORM_INPUT,
  RESPONSE_OUTPUT_FIELDS,
  dataFrom,
  fetchForm,
  flatten,
  inputFields,
  outputFields,
} = require('../lib/fields');

/**
 * POST /api/v2/forms/:id/responses {data} with the workspace key (so a draft form takes it
 * too): the submission API, its validation and its events (`response.submitted` fires, so a
 * "New Form Response" Zap on the same form sees it). The input fields are the form's own,
 * read from GET /api/v2/forms/:id; the answer is the new response, flat.
 */
const perform = async (z, bundle) => {
  const form = await fetchForm(z, bundle);
  const response = await z.request({
    url: `${baseUrl(bundle)}/api/v2/forms/${encodeURIComponent(bundle.inputData.form_id)}/responses`,
    method: 'POST',
    body: { data: dataFrom(form.fields, bundle.inputData) },
  });
  return flatten(response.data);
};

module.exports = {
  key: 'create_response',
  noun: 'Response',
  display: {
    label: 'Create Response',
    description: 'Submits a new, completed response to a formhub form.',
  },
  operation: {
    inputFields: [{ ...FORM_INPUT, helpText: 'The form to submit to.' }, inputFields],
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
