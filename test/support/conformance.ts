/**
 * Which scenarios run against the vendor's real NSM charts and real nginx-meshctl, read by vitest.config.ts.
 *
 * The test-bed and upgrade scenarios below run once per test run: against the real charts (and, for 1.7.0
 * and 2.0.0, the real binaries that cluster:up builds from the shared source) when they are there, against
 * the project's fixtures (fixture charts, stand-ins) otherwise. They used to run twice in CI, fixtures
 * first and the real ones after; the fixture run proved nothing about the tool that the real run does not.
 */
import fs from 'node:fs';
import path from 'node:path';

/** The files that run against the real charts and binaries when there are any (`npm run test:conformance`). */
export const conformanceFiles = [
  'test/integration/testbed-meshctl-real.test.ts',
  'test/integration/testbed-meshctl.test.ts',
  'test/integration/testbed-meshctl-v2.test.ts',
  'test/integration/testbed-meshctl-openshift.test.ts',
  'test/integration/testbed-helm.test.ts',
  'test/integration/upgrade-paths.test.ts',
  'test/integration/resume.test.ts',
  'test/integration/deploy-resume.test.ts',
  'test/integration/secrets-run.test.ts',
];

export interface RealReference {
  /** The real charts (one folder per version), or undefined. */
  charts?: string;
  /** Whether the vendor's nginx-meshctl source is there (cluster:up builds the real binaries from it). */
  meshctlSource: boolean;
}

/**
 * Where the real reference is: NSM_CHARTS_DIR, else ../shared/nsm-reference/charts beside the repository;
 * NSM_MESHCTL_SRC, else ../shared/nsm-reference/meshctl-src (as test/cluster/build-meshctl.sh looks).
 * NSM_CONFORMANCE=0 turns the real run off (the scenarios then run on the fixtures).
 */
export function realReference(repoRoot: string, env: NodeJS.ProcessEnv = process.env): RealReference {
  if (env.NSM_CONFORMANCE === '0') return { meshctlSource: false };
  const shared = path.resolve(repoRoot, '..', 'shared', 'nsm-reference');
  const charts = env.NSM_CHARTS_DIR ? path.resolve(env.NSM_CHARTS_DIR) : path.join(shared, 'charts');
  const source = env.NSM_MESHCTL_SRC ? path.resolve(env.NSM_MESHCTL_SRC) : path.join(shared, 'meshctl-src');
  return { ...(fs.existsSync(charts) ? { charts } : {}), meshctlSource: fs.existsSync(source) };
}

/**
 * The environment of the conformance files: the real charts for the stand-ins and Helm; the real
 * nginx-meshctl 1.7.0 and 2.0.0 handed to the tool by the upgrade scenarios; a missing real binary is
 * an error (not a skip) when its source is there.
 */
export function conformanceEnv(ref: RealReference): Record<string, string> {
  return {
    NSM_CHARTS_DIR: ref.charts!,
    NSM_SCENARIO_REAL_MESHCTL: ref.meshctlSource ? '1' : '0',
    NSM_REQUIRE_REAL_MESHCTL: ref.meshctlSource ? '1' : '0',
  };
}
