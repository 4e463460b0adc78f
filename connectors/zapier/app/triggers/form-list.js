'use strict';

const { baseUrl } = require('../authentication');

/** GET /api/v2/zapier/forms -> [{id, title}]: the forms of the key's workspace. */
const perform = async (z, bundle) => {
  const response = await z.request({ url: `${baseUrl(bundle)}/api/v2/zapier/forms` });
  return response.data;
};

module.exports = {
  key: 'form_list',
  noun: 'Form',
  display: {
    label: 'List Forms',
    description: 'The forms of the workspace, for the form dropdown.',
    hidden: true,
  },
  operation: {
    perform,
    sample: { id: '0b7f6a52-3a8e-4c4f-9a55-0d6f3f1f6a10', title: 'Contact us' },
    outputFields: [
      { key: 'id', label: 'Form ID' },
      { key: 'title', label: 'Title' },
    ],
  },
};
