'use strict';

const { baseUrl } = require('../authentication');

/**
 * The form's fields, in the words of Zapier: dynamic output fields (what a trigger, the
 * search and the create step give later steps) and dynamic input fields (what "Create
 * Response" asks for). Every response the app hands Zapier is flat: `id`, `form_id`,
 * `submitted_at`, then each data field at the top level.
 */

/** The fixed keys of every flat response, before the form's own fields. */
const RESPONSE_OUTPUT_FIELDS = [
  { key: 'id', label: 'Response ID', type: 'string' },
  { key: 'form_id', label: 'Form ID', type: 'string' },
  { key: 'submitted_at', label: 'Submitted At', type: 'datetime' },
];

/** The form dropdown; the fields that follow it depend on the chosen form. */
const FORM_INPUT = {
  key: 'form_id',
  label: 'Form',
  required: true,
  dynamic: 'form_list.id.title',
  altersDynamicFields: true,
};

/** formhub field type -> Zapier output type; absent: a string (or, calculated, untyped). */
const OUTPUT_TYPES = {
  number: 'number',
  integer: 'integer',
  rating: 'integer',
  boolean: 'boolean',
  datetime: 'datetime',
};

/** formhub field type -> Zapier input type; absent: a one-line string. */
const INPUT_TYPES = {
  textarea: 'text',
  number: 'number',
  integer: 'integer',
  rating: 'integer',
  boolean: 'boolean',
  datetime: 'datetime',
};

const formPath = (bundle, suffix) =>
  `${baseUrl(bundle)}/api/v2${suffix.replace(':id', encodeURIComponent(bundle.inputData.form_id))}`;

/** GET /api/v2/zapier/forms/:id/fields -> [{key, label, type}] (calculated fields last). */
const fetchFields = async (z, bundle) => {
  const response = await z.request({ url: formPath(bundle, '/zapier/forms/:id/fields') });
  return response.data;
};

/** GET /api/v2/forms/:id: the definition the submission API validates against. */
const fetchForm = async (z, bundle) => {
  const response = await z.request({ url: formPath(bundle, '/forms/:id') });
  return response.data;
};

/** One output field per data key, labelled with the field's label. */
const toOutputField = (field) => {
  const out = { key: field.key, label: field.label };
  if (field.type === 'multiselect') return { ...out, type: 'string', list: true };
  if (field.type === 'calculated') return out;
  return { ...out, type: OUTPUT_TYPES[field.type] || 'string' };
};

/** Dynamic output fields of a trigger or the search: the form's fields once a form is chosen. */
const outputFields = async (z, bundle) => {
  if (!bundle.inputData || !bundle.inputData.form_id) return [];
  return (await fetchFields(z, bundle)).map(toOutputField);
};

/** The help line of an input field: what the submission API accepts. */
const inputHelp = (field) => {
  if (field.type === 'date') return 'A date, YYYY-MM-DD.';
  if (field.type === 'rating') return `A whole number from 1 to ${field.max || 5}.`;
  if (field.type === 'multiselect') return 'One or more of the options.';
  return undefined;
};

/** One input field per form field: type, required and choices as the form declares them. */
const toInputField = (field) => {
  const input = { key: field.key, label: field.label || field.key, required: !!field.required };
  input.type = INPUT_TYPES[field.type] || 'string';
  if (field.options && field.options.length > 0) input.choices = field.options;
  if (field.type === 'multiselect') input.list = true;
  const help = inputHelp(field);
  if (help) input.helpText = help;
  return input;
};

/** Dynamic input fields of "Create Response": the chosen form's fields. */
const inputFields = async (z, bundle) => {
  if (!bundle.inputData || !bundle.inputData.form_id) return [];
  return (await fetchForm(z, bundle)).fields.map(toInputField);
};

const TRUE = ['true', 'yes', '1'];
const FALSE = ['false', 'no', '0'];

/**
 * One mapped value as the field's type wants it. Zapier hands over text (a mapped value
 * from an earlier step is always text); a value that does not convert is sent as it is, so
 * that formhub's 422 names the field.
 */
const coerce = (field, value) => {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  switch (field.type) {
    case 'number':
    case 'integer':
    case 'rating':
      return text !== '' && Number.isFinite(Number(text)) ? Number(text) : value;
    case 'boolean':
      if (TRUE.includes(text.toLowerCase())) return true;
      if (FALSE.includes(text.toLowerCase())) return false;
      return value;
    case 'multiselect':
      // "a, b" mapped from an earlier step is two options, unless it is one option itself.
      if ((field.options || []).includes(value)) return [value];
      return text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    default:
      return value;
  }
};

/** The `data` of a submission: the form's fields found in inputData, empty ones left out. */
const dataFrom = (fields, inputData) => {
  const data = {};
  for (const field of fields) {
    const value = inputData[field.key];
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value) && value.length === 0) continue;
    data[field.key] = Array.isArray(value)
      ? value.flatMap((v) => coerce(field, v))
      : coerce(field, value);
  }
  return data;
};

/** A Response of the API as one flat object, the hook's shape. */
const flatten = (response) => ({
  id: response.id,
  form_id: response.form_id,
  submitted_at: response.submitted_at,
  ...response.data,
});

module.exports = {
  FORM_INPUT,
  RESPONSE_OUTPUT_FIELDS,
  outputFields,
  inputFields,
  fetchForm,
  dataFrom,
  flatten,
  toOutputField,
  toInputField,
};
