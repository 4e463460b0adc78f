'use strict';

/**
 * API-key authentication. `baseUrl` lets the same app talk to any formhub
 * deployment (and to a hub on 127.0.0.1 in tests).
 */
const DEFAULT_BASE_URL = 'https://formhub.example.com';

/** The hub's root URL for this connection, without a trailing slash. */
const baseUrl = (bundle) =>
  String((bundle.authData && bundle.authData.baseUrl) || DEFAULT_BASE_URL).replace(/\/+$/, '');

const test = async (z, bundle) => {
  const response = await z.request({ url: `${baseUrl(bundle)}/api/v2/zapier/me` });
  return response.data;
};

/**
 * formhub's error body (`{"error": {"code", "message", "details"}}`) as one line for the Zap
 * history, e.g. "formhub: the response breaks the form rules (422): age: must be a number".
 * Undefined when the body is not that shape (core's own error then says what came back).
 */
const hubErrorMessage = (response) => {
  let body = response.data;
  if (body === undefined || typeof body === 'string') {
    try {
      body = JSON.parse(response.content);
    } catch {
      return undefined;
    }
  }
  const error = body && body.error;
  if (!error || typeof error.message !== 'string') return undefined;
  const details = Array.isArray(error.details)
    ? error.details.map((d) => `${d.field}: ${d.message}`).join('; ')
    : '';
  return `formhub: ${error.message} (${response.status})${details ? `: ${details}` : ''}`;
};

module.exports = {
  DEFAULT_BASE_URL,
  hubErrorMessage,
  baseUrl,
  config: {
    type: 'custom',
    fields: [
      {
        key: 'api_key',
        label: 'API Key',
        type: 'password',
        required: true,
        helpText:
          'A formhub workspace API key (the `api_key` returned when the workspace was created).',
      },
      {
        key: 'baseUrl',
        label: 'formhub URL',
        type: 'string',
        required: false,
        default: DEFAULT_BASE_URL,
        helpText: 'The root URL of your formhub deployment, e.g. `https://formhub.example.com`.',
      },
    ],
    test,
    connectionLabel: (z, bundle) => {
      const workspace = bundle.inputData && bundle.inputData.workspace;
      return workspace && workspace.name ? workspace.name : 'formhub';
    },
  },
  /** beforeRequest: every request carries the workspace key. */
  addApiKey: (request, z, bundle) => {
    if (bundle.authData && bundle.authData.api_key) {
      request.headers = request.headers || {};
      request.headers.Authorization = `Bearer ${bundle.authData.api_key}`;
    }
    return request;
  },
  /**
   * afterResponse: a clear message for a bad key. RefreshAuthError is for
   * OAuth2/session auth (it asks Zapier to refresh a token); an API key cannot
   * be refreshed, so this is a plain z.errors.Error.
   */
  handleErrors: (response, z) => {
    if (response.status === 401) {
      throw new z.errors.Error(
        'The API key was rejected by formhub (401). Check the key and the formhub URL, then reconnect.',
        'AuthenticationError',
        401,
      );
    }
    if (response.status === 403) {
      // A scoped key names the scope it lacks (docs/zapier.md lists what each step needs).
      const why = hubErrorMessage(response);
      throw new z.errors.Error(
        `This formhub API key is not allowed to do that (403)${why ? `. ${why}` : '.'}`,
        'ForbiddenError',
        403,
      );
    }
    if (response.status >= 400 && response.status < 500 && !response.skipThrowForStatus) {
      const message = hubErrorMessage(response);
      if (message) throw new z.errors.Error(message, 'FormhubError', response.status);
    }
    return response;
  },
};
