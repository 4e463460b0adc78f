export { WorkspaceService, API_KEY_PREFIX, type CreatedKey } from './service.ts';
export type { Principal } from '../common/index.ts';
export { workspaceRoutes } from './routes.ts';
export { ApiKey as ApiKeySchema } from './schemas.ts';
