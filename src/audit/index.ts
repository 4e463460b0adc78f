export { classify, type AuditAction } from './classify.ts';
export { registerAuditLog } from './hook.ts';
export { auditRoutes } from './routes.ts';
