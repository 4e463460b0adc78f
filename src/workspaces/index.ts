export { WorkspaceService, API_KEY_PREFIX, type Principal, type CreatedKey } from './service.ts';
export { workspaceRoutes } from './routes.ts';
export { ApiKey as ApiKeySchema } from './schemas.ts';
