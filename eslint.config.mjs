// typescript-eslint's recommended type-checked rules over all TypeScript in the repository; `npm run lint`
// (part of `npm test`) fails on any warning.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '**/dist/', '**/*.js', '**/*.mjs', '.test-venv/'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    // The one tsconfig.json (it includes every linted folder): a third less CPU and memory than projectService here,
    // and a .ts file it does not include is an error rather than a file checked against a default project.
    languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's describe/it/before/after return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'before', 'after', 'beforeEach', 'afterEach'] }],
      }],
    },
  },
  {
    // Tests walk synthesized CloudFormation templates and fake AWS wire payloads: untyped JSON by nature. The
    // production code stays fully typed.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Stubs implement the commands' async interfaces (confirm, sleep, …) without awaiting anything.
      '@typescript-eslint/require-await': 'off',
    },
  },
);
