'use strict';

const { baseUrl } = require('../authentication');

/**
 * REST hook: Zapier subscribes a target URL for one form; the hub POSTs each
 * submitted response there as one flat object (id, form_id, submitted_at, then
 * each data field at the top level). A 410 from Zapier makes the hub drop the hook.
 */

const performSubscribe = async (z, bundle) => {
  const response = await z.request({
    url: `${baseUrl(bundle)}/api/v2/zapier/hooks`,
    method: 'POST',
    body: {
      target_url: bundle.targetUrl,
      event: 'response.submitted',
      form_id: bundle.inputData.form_id,
    },
  });
  // {id}: Zapier keeps it as bundle.subscribeData for performUnsubscribe.
  return response.data;
};

const performUnsubscribe = async (z, bundle) => {
  const id = bundle.subscribeData && bundle.subscribeData.id;
  if (!id) throw new z.errors.Error('No formhub hook id to unsubscribe.', 'MissingHookId', 400);
  const response = await z.request({
    url: `${baseUrl(bundle)}/api/v2/zapier/hooks/${encodeURIComponent(id)}`,
    method: 'DELETE',
    skipThrowForStatus: true,
  });
  // Already gone (e.g. the hub dropped it after a 410): turning the Zap off still succeeds.
  if (response.status === 404) return { id, deleted: true };
  response.throwForStatus();
  return response.data;
};

/** The hook's body, as the hub sent it. */
const perform = async (z, bundle) => [bundle.cleanedRequest];

/** Recent completed responses, in the same flat shape, for "Test trigger". */
const performList = async (z, bundle) => {
  const response = await z.request({
    url: `${baseUrl(bundle)}/api/v2/zapier/forms/${encodeURIComponent(bundle.inputData.form_id)}/sample`,
  });
  return response.data;
};

module.exports = {
  key: 'new_response',
  noun: 'Response',
  display: {
    label: 'New Form Response',
    description: 'Triggers when a response to a formhub form is submitted.',
  },
  operation: {
    type: 'hook',
    inputFields: [
      {
        key: 'form_id',
        label: 'Form',
        required: true,
        dynamic: 'form_list.id.title',
        helpText: 'The form whose new responses start this Zap.',
      },
    ],
    performSubscribe,
    performUnsubscribe,
    perform,
    performList,
    sample: {
      id: '5d1c2a8e-7b1f-4f0e-8a43-2f4b9c6d1e20',
      form_id: '0b7f6a52-3a8e-4c4f-9a55-0d6f3f1f6a10',
      submitted_at: '2026-01-15T09:30:00.000Z',
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      topics: ['billing', 'support'],
    },
    outputFields: [
      { key: 'id', label: 'Response ID' },
      { key: 'form_id', label: 'Form ID' },
      { key: 'submitted_at', label: 'Submitted At', type: 'datetime' },
    ],
  },
};
