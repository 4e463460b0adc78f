export { createHub, type Hub, type HubDeps } from './hub.ts';
export { buildApp, BODY_LIMIT_BYTES, type AppOptions } from './app.ts';
