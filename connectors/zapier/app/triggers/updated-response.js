'use strict';

const { hookTrigger } = require('../lib/hook-trigger');

/**
 * REST hook on `response.updated`: an answer of a response changed (a PATCH that does not
 * complete it; completing one is "New Form Response"). The hook carries the response as it
 * is after the change.
 */
module.exports = hookTrigger({
  key: 'updated_response',
  event: 'response.updated',
  label: 'Updated Form Response',
  description: 'Triggers when a response to a formhub form is changed.',
  formHelp: 'The form whose changed responses start this Zap.',
});
