'use strict';

const { baseUrl } = require('../authentication');
const { FORM_INPUT, RESPONSE_OUTPUT_FIELDS, outputFields } = require('./fields');

/**
 * A REST-hook trigger on one form's responses: Zapier subscribes a target URL for one event;
 * the hub POSTs each matching response there as one flat object (id, form_id, submitted_at,
 * then each data field at the top level). A 410 from Zapier makes the hub drop the hook.
 */

const CONDITION_INPUT = {
  key: 'condition',
  label: 'Only when (condition)',
  type: 'text',
  required: false,
  helpText:
    'Optional. A formhub condition (JSON): only responses that match it start the Zap, and the others never reach Zapier (no task used). For example `{"data.department": {"$in": ["IT"]}}`. Paths: `data.<field key>`, `completed`, `submitted_at`, `metadata.<key>`. formhub checks it when the Zap is turned on.',
};

/** The condition input as an object: JSON text (what Zapier sends) or an object; none if blank. */
const parseCondition = (z, raw) => {
  if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) {
    return undefined;
  }
  let condition = raw;
  if (typeof raw === 'string') {
    try {
      condition = JSON.parse(raw);
    } catch (error) {
      throw new z.errors.Error(
        `The condition is not valid JSON (${error.message}). Example: {"data.department": {"$in": ["IT"]}}`,
        'InvalidCondition',
        400,
      );
    }
  }
  if (typeof condition !== 'object' || condition === null || Array.isArray(condition)) {
    throw new z.errors.Error(
      'The condition must be a JSON object, e.g. {"data.department": {"$in": ["IT"]}}',
      'InvalidCondition',
      400,
    );
  }
  return condition;
};

const subscribeFor = (event) => async (z, bundle) => {
  const condition = parseCondition(z, bundle.inputData.condition);
  const response = await z.request({
    url: `${baseUrl(bundle)}/api/v2/zapier/hooks`,
    method: 'POST',
    body: {
      target_url: bundle.targetUrl,
      event,
      form_id: bundle.inputData.form_id,
      ...(condition ? { condition } : {}),
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

const SAMPLE = {
  id: '5d1c2a8e-7b1f-4f0e-8a43-2f4b9c6d1e20',
  form_id: '0b7f6a52-3a8e-4c4f-9a55-0d6f3f1f6a10',
  submitted_at: '2026-01-15T09:30:00.000Z',
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  topics: ['billing', 'support'],
};

/**
 * A hook trigger definition for `event`.
 *
 * @example hookTrigger({ key: 'new_response', event: 'response.submitted', label, description, formHelp })
 */
const hookTrigger = ({ key, event, label, description, formHelp }) => ({
  key,
  noun: 'Response',
  display: { label, description },
  operation: {
    type: 'hook',
    inputFields: [{ ...FORM_INPUT, helpText: formHelp }, CONDITION_INPUT],
    performSubscribe: subscribeFor(event),
    performUnsubscribe,
    perform,
    performList,
    sample: SAMPLE,
    outputFields: [...RESPONSE_OUTPUT_FIELDS, outputFields],
  },
});

module.exports = { hookTrigger, parseCondition };
