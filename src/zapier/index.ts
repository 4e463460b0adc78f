export { zapierRoutes } from './routes.ts';
