import { defaultClientConditions, defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // @formhub/sdk resolves to its sources (sdk/package.json "formhub-source"), not a build;
  // every other package as by default (setting conditions replaces Vite's defaults).
  resolve: { conditions: ['formhub-source', ...defaultClientConditions] },
  ssr: { resolve: { conditions: ['formhub-source', ...defaultServerConditions] } },
  test: {
    include: ['test/**/*.test.ts', 'sdk/test/**/*.test.ts', 'console/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
