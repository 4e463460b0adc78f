export { FormService, type FormRow } from './service.ts';
export { formRoutes } from './routes.ts';
export { computeCalculated } from './calculated-fields.ts';
export { compileValidator, validateResponseData } from './validate-response.ts';
export type { Field, FieldType, CalculatedField, FieldIssue } from './field.ts';
export { FIELD_TYPES } from './field.ts';
