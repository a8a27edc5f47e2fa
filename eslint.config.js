import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '.offsite/**',
      '.offsite-e2e/**',
      '**/generated/**',
      'coverage/**',
      'test-output/**',
      'services/console/web/dist/**',
      '*.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Libraries take their settings as options: only a service's main.ts (and CLIs, scripts, tests) read the environment.
    files: ['packages/*/src/**/*.ts'],
    ignores: ['packages/cli/src/**', 'packages/testing/src/**', '**/*.test.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Packages take options; read the environment in a service main.ts.',
        },
      ],
      'no-console': 'error',
    },
  },
);
