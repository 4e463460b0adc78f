'use strict';

const { hookTrigger } = require('../lib/hook-trigger');

/** REST hook on `response.submitted`: a response completed (new, or completed later by PATCH). */
module.exports = hookTrigger({
  key: 'new_response',
  event: 'response.submitted',
  label: 'New Form Response',
  description: 'Triggers when a response to a formhub form is submitted.',
  formHelp: 'The form whose new responses start this Zap.',
});
