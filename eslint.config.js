// Lint rules for punt6's TypeScript: the recommended sets of ESLint and typescript-eslint; the
// formatting is prettier's (.prettierrc.json), checked separately by `npm test`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.lab/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      // prom-client calls a metric's collect() with the metric as `this`; the owner is `self` there.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['self'] }],
      // Unused names are compile errors already (tsconfig noUnusedLocals); `_`-prefixed parameters are meant.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
);
