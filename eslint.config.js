// Lint configuration: typescript-eslint recommended rules plus the import boundaries between parts.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['node_modules/', 'data/', 'demo-data/', 'dist/', 'test-artifacts/', 'bench/results/'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Task code (examples/): the globals the sandbox gives every task.
    files: ['examples/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: {
        tables: 'readonly',
        report_property: 'readonly',
        lookup: 'readonly',
        to_date: 'readonly',
        accumulator: 'writable',
        Utils: 'readonly',
        DateTime: 'readonly',
      },
    },
  },
);
