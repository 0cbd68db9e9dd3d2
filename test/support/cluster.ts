import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import type { Deps } from '../../src/deps.ts';
import { realClock } from '../../src/deps.ts';
import { createKube, type Kube } from '../../src/kube/client.ts';
import { loadKubeConfig } from '../../src/kube/kubeconfig.ts';
import { createRunner } from '../../src/exec/runner.ts';
import { memoryLog } from '../../src/log.ts';

/** The repository root. */
export const repoRoot = path.resolve(import.meta.dirname, '../..');
/** Where `npm run cluster:up` writes its state. */
export const clusterDir = process.env.NSM_CLUSTER_DIR ?? path.join(repoRoot, '.cluster');

/** The kubeconfig the integration tests use: TEST_KUBECONFIG, else the local cluster's. */
export function kubeconfigPath(): string {
  return process.env.TEST_KUBECONFIG ?? path.join(clusterDir, 'kubeconfig');
}

/** Tool paths exported by .cluster/env (KUBECTL, HELM3, HELM4, ...), with kubectl/helm fallbacks. */
export function clusterEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  const file = path.join(clusterDir, 'env');
  if (fs.existsSync(file)) {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const m = /^export (\w+)=(?:'([^']*)'|(.*))$/.exec(line.trim());
      if (m && m[1] !== 'PATH') env[m[1]!] = m[2] ?? m[3] ?? '';
    }
  }
  env.KUBECONFIG = kubeconfigPath();
  env.KUBECTL ??= 'kubectl';
  return env;
}

let shared: Kube | undefined;
/** One API client for the test file, against the real test cluster. */
export async function testKube(): Promise<Kube> {
  shared ??= await createKube(loadKubeConfig({ kubeconfig: kubeconfigPath() }));
  return shared;
}

/** Real Deps against the test cluster, with an in-memory log. */
export async function testDeps(opts: { dryRun?: boolean } = {}): Promise<Deps & { log: ReturnType<typeof memoryLog> }> {
  const log = memoryLog();
  return {
    kube: await testKube(),
    exec: createRunner({ dryRun: opts.dryRun ?? false, log }),
    fs: (await import('node:fs/promises')).default,
    clock: realClock,
    log,
  };
}

export interface ToolResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI (bin/kubectl-nsm_upgrade) against the test cluster. */
export async function runTool(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<ToolResult> {
  const res = await execa(path.join(repoRoot, 'bin/kubectl-nsm_upgrade'), args, {
    reject: false,
    cwd: opts.cwd ?? repoRoot,
    env: { ...clusterEnv(), ...opts.env },
    timeout: opts.timeoutMs ?? 600_000,
  });
  return { exitCode: res.exitCode ?? 1, stdout: String(res.stdout), stderr: String(res.stderr) };
}

/** Runs kubectl (the cluster's own build when present) against the test cluster. */
export async function kubectl(args: string[], opts: { input?: string; reject?: boolean } = {}): Promise<ToolResult> {
  const env = clusterEnv();
  const res = await execa(env.KUBECTL!, ['--kubeconfig', kubeconfigPath(), ...args], {
    reject: false,
    input: opts.input,
  });
  const out = { exitCode: res.exitCode ?? 1, stdout: String(res.stdout), stderr: String(res.stderr) };
  if (opts.reject !== false && out.exitCode !== 0)
    throw new Error(`kubectl ${args.join(' ')} failed (${out.exitCode}): ${out.stderr}`);
  return out;
}

/** A namespace name unique to this test run. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`.slice(0, 63);
}

/** `s` as a literal inside a RegExp (paths and names in expected output). */
export const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
