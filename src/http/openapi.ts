import swagger, { type OpenAPIV3_2 } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/**
 * The OpenAPI 3.1 document, generated from the same route schemas that validate requests
 * (`GET /api/v2/openapi.json`), and its rendered reference at `/docs`. `webhooks` are the
 * requests the hub sends (OpenAPI 3.1 `webhooks`), given by the composition root.
 */
export async function registerOpenApi(
  app: FastifyInstance,
  version: string,
  webhooks: Record<string, OpenAPIV3_2.PathItemObject> = {},
): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'formhub API',
        version,
        description: 'Forms, validated responses, analytics and reliable integrations.',
      },
      servers: [{ url: '/' }],
      webhooks,
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'A workspace API key' },
        },
      },
    },
    refResolver: {
      buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`),
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/api/v2/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
