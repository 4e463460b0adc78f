import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules', 'data', 'coverage', 'dist', 'sdk/dist'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Read configuration through src/config only.',
        },
      ],
    },
  },
  {
    // Each src/<capability>/ folder's index.ts is its public surface: another folder imports
    // that, never an inner file (its own subfolders it may reach into).
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: String.raw`^(\.\./)+[^./][^/]*/(?!index\.ts$).+\.ts$`,
              message: "Import the folder's public index.ts, not one of its inner files.",
            },
          ],
        },
      ],
    },
  },
  {
    files: [
      'src/config/**',
      'test/**',
      'bench/**',
      'bin/**',
      'vitest.config.ts',
      'console/build.ts',
    ],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    // The admin console runs in the browser. Its API key lives in sessionStorage and the
    // Authorization header only: no localStorage, no EventSource (it cannot send the header), no logging.
    files: ['console/src/**/*.{ts,tsx}'],
    rules: {
      'no-console': 'error',
      'no-restricted-globals': [
        'error',
        {
          name: 'localStorage',
          message: 'The API key stays in sessionStorage (console/src/session.ts).',
        },
        {
          name: 'EventSource',
          message: 'EventSource cannot send the Authorization header: read the stream with fetch.',
        },
      ],
    },
  },
  {
    // The Zapier app (zapier-platform-core) is CommonJS.
    files: ['connectors/zapier/app/**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { module: 'readonly', require: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
