'use strict';

const { version: platformVersion } = require('zapier-platform-core');
const { version } = require('./package.json');
const authentication = require('./authentication');
const formList = require('./triggers/form-list');
const fieldList = require('./triggers/field-list');
const newResponse = require('./triggers/new-response');
const updatedResponse = require('./triggers/updated-response');
const findResponse = require('./searches/find-response');
const createResponse = require('./creates/create-response');

/** The formhub Zapier app (zapier-platform-core, CommonJS). */
module.exports = {
  version,
  platformVersion,
  authentication: authentication.config,
  beforeRequest: [authentication.addApiKey],
  afterResponse: [authentication.handleErrors],
  // Every request goes through z.request (already logged), so core's patching of
  // Node's http/https/fetch for logging adds nothing; skipping it also keeps a
  // hub running in the same process (tests) untouched.
  flags: { skipHttpPatch: true },
  triggers: {
    [formList.key]: formList,
    [fieldList.key]: fieldList,
    [newResponse.key]: newResponse,
    [updatedResponse.key]: updatedResponse,
  },
  searches: { [findResponse.key]: findResponse },
  creates: { [createResponse.key]: createResponse },
  // "Find Response", and "Create Response" when nothing is found (the keys must match).
  searchOrCreates: {
    [findResponse.key]: {
      key: findResponse.key,
      display: {
        label: 'Find or Create Response',
        description: 'Finds a response by a field, or submits a new one when none matches.',
      },
      search: findResponse.key,
      create: createResponse.key,
    },
  },
  resources: {},
};
