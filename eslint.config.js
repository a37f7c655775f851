import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'contracts/artifacts/', 'contracts/types/', '.data/', '.cache/', 'coverage/', 'bench/results/', 'indexer/ponder-env.d.ts', 'indexer/.ponder/', 'indexer/generated/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // The dashboard: plain browser scripts, loaded with <script defer> (graphql-ws.js defines graphqlWs).
    files: ['api/dashboard/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: { window: 'readonly', document: 'readonly', fetch: 'readonly', AbortController: 'readonly', graphqlWs: 'readonly' },
    },
  },
);
