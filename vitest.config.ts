import { defineConfig } from 'vitest/config';

/**
 * @formhub/sdk resolves to its sources (sdk/package.json "formhub-source"), not a build.
 * Setting conditions replaces Vite's defaults, whose `module` would send packages that ship
 * an ESM build Node cannot load (@opentelemetry/api's extensionless imports) to that build;
 * without it every other package resolves as Node resolves it.
 */
const conditions = ['formhub-source', 'node', 'development|production'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['test/**/*.test.ts', 'sdk/test/**/*.test.ts', 'console/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
