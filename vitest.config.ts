import { defineConfig } from 'vitest/config';

export default defineConfig({
  // @formhub/sdk resolves to its sources (sdk/package.json "formhub-source"), not a build.
  resolve: { conditions: ['formhub-source'] },
  ssr: { resolve: { conditions: ['formhub-source'] } },
  test: {
    include: ['test/**/*.test.ts', 'sdk/test/**/*.test.ts', 'console/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
