import { defineConfig } from 'vitest/config';
import { conformanceEnv, conformanceFiles, realReference } from './test/support/conformance.ts';

// Projects: `unit` (pure logic, no cluster), `integration` (the real CLI against a real kube-apiserver;
// globalSetup starts the local cluster or reuses one) and, when the real NSM charts are beside the
// repository (or NSM_CHARTS_DIR names them), `conformance`: the test-bed and upgrade scenarios against the
// real charts and the vendor's real nginx-meshctl, instead of the fixtures (test/support/conformance.ts).
const real = realReference(import.meta.dirname);
const cluster = {
  environment: 'node' as const,
  globalSetup: ['test/integration/global-setup.ts'],
  testTimeout: 180_000,
  hookTimeout: 600_000,
  // Tests share one cluster; run files one at a time so they do not race on the mesh.
  fileParallelism: false,
};

export default defineConfig({
  test: {
    // The tally reporter ends the run with `tally: N passed, N failed, N skipped`, each skip's reason, and the slowest files and tests.
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
          exclude: real.charts ? conformanceFiles : [],
          ...cluster,
        },
      },
      ...(real.charts
        ? [
            {
              test: {
                name: 'conformance',
                include: conformanceFiles,
                env: conformanceEnv(real),
                ...cluster,
                // A group of its own: vitest runs groups one after another, so these never run beside the
                // integration files (one cluster, one file at a time).
                sequence: { groupOrder: 1 },
              },
            },
          ]
        : []),
    ],
  },
});
