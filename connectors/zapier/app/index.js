'use strict';

const { version: platformVersion } = require('zapier-platform-core');
const { version } = require('./package.json');
const authentication = require('./authentication');
const formList = require('./triggers/form-list');
const newResponse = require('./triggers/new-response');

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
    [newResponse.key]: newResponse,
  },
  searches: {},
  creates: {},
  resources: {},
};
