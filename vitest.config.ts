import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure logic, no cluster) and `integration` (the real CLI
// against a real kube-apiserver; globalSetup starts the local cluster or reuses one).
export default defineConfig({
  test: {
    // The tally reporter ends the run with `tally: N passed, N failed, N skipped` and each skip's reason.
    reporters: ['default', './test/support/tally-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 600_000,
          // Tests share one cluster; run files one at a time so they do not race on the mesh.
          fileParallelism: false,
        },
      },
    ],
  },
});
