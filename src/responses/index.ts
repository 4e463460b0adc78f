export { ResponseService } from './service.ts';
export { responseRoutes } from './routes.ts';
export { importResponses } from './import.ts';
export { presentResponse, type PresentedResponse } from './present.ts';
export { parseBound, parseFilter, parseProjection } from './list-params.ts';
export { JsonObject } from './schemas.ts';
export { METADATA_LIMITS, metadataProblem } from './metadata-limits.ts';
export { prepareSubmission, type PreparedSubmission } from './submission.ts';
