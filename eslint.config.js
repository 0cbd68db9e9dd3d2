// The linter: typescript-eslint's type-aware recommended rules on everything the compiler checks
// (tsconfig.json's include). `npm run lint` runs it and the formatter's check; .ci/run runs that.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.cluster/**',
      '.cluster-shard-*/**',
      'test/fixtures/charts/**',
      'coverage/**',
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  { languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } } },
  {
    rules: {
      // `_name` marks a value left out on purpose (a destructured field dropped, an unused parameter of a callback's shape).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // A wait rejects with its AbortSignal's reason, whatever the aborter put there (the Lease's LeaseLostError, a signal's).
      '@typescript-eslint/prefer-promise-reject-errors': [
        'error',
        { allowThrowingAny: true, allowThrowingUnknown: true },
      ],
      // Interfaces are async (Deps, checks, gates); an implementation with nothing to await stays async to keep its shape.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Tests read the CLI's JSON output and the API server's objects as they come (untyped JSON): these
    // rules would only add casts there.
    files: ['test/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      // Tests print what untyped objects hold, and check that a Secret prints redacted in a template.
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/restrict-plus-operands': 'off',
      // Tests take a fake's method to wrap it.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
