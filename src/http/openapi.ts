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
    // A scoped route lists its scope in its security requirement (OpenAPI 3.1 allows role
    // names for any scheme): `"security": [{"bearerAuth": ["forms:read"]}]`.
    transform: ({ schema, url, route }) => {
      const scope = route.config?.scope;
      if (!schema?.security || !scope || scope === 'any' || scope === 'public' || scope === 'admin')
        return { schema, url };
      return { schema: { ...schema, security: [{ bearerAuth: [scope] }] }, url };
    },
    refResolver: {
      buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`),
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/api/v2/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
