/**
 * Security checks as tests (issue 7): the backup directory is 0700 and its files 0600; and no
 * credential (bearer token, client certificate or key from the kubeconfig) appears in any output
 * or file of backup / restore / status / plan runs, with the admin client-certificate kubeconfig
 * and with a ServiceAccount TokenRequest token (so there is a token to leak), on success paths,
 * on refusals, and on an API failure (through the fault proxy) where stack traces are printed.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, deleteNamespace, seed } from '../fixtures/backups/cluster.ts';
import { catalogCrdsReady } from '../support/crd-guard.ts';
import { hostileCases } from '../fixtures/backups/build.ts';
import { dropNamespace, plantMesh } from './detect-plant.ts';
import { kubeconfigPath, kubectl, runTool, testKube, uniqueName, type ToolResult } from '../support/cluster.ts';
import { loadUpstream, writeKubeconfig } from '../support/fault-cert.ts';
import { expectRealTransport, startFaultProxy } from '../support/fault-proxy.ts';
import { findLeaks, kubeconfigSecrets, tokenNeedles, type Secret } from '../support/secret-scan.ts';
import { collectionPath } from '../../src/kube/paths.ts';

const ns = uniqueName('sec');
const meshNs = uniqueName('sec-mesh');
const binding = uniqueName('nsm-upgrade-sec-test');
let tmp: string;
let tokenKubeconfig: string;
let token = '';
const secrets: Secret[] = [];

async function walk(dir: string): Promise<{ file: string; mode: number; isDir: boolean }[]> {
  const out: { file: string; mode: number; isDir: boolean }[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    const st = await fs.lstat(p);
    out.push({ file: p, mode: st.mode & 0o777, isDir: e.isDirectory() });
    if (e.isDirectory()) out.push(...(await walk(p)));
  }
  return out;
}

beforeAll(async () => {
  const kube = await testKube();
  await catalogCrdsReady(kube);
  await createNamespace(kube, ns);
  await seed(kube, ns, 3);
  await plantMesh(meshNs, { version: '1.6.0', releases: [{}] });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'nsm-security-'));

  // A ServiceAccount with a bound token (TokenRequest), allowed to do what the commands need.
  await kube.request({
    method: 'POST',
    path: collectionPath({ group: '', version: 'v1', plural: 'serviceaccounts', namespaced: true }, ns),
    body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'upgrader' } },
  });
  await kubectl([
    'create',
    'clusterrolebinding',
    binding,
    '--clusterrole',
    'cluster-admin',
    '--serviceaccount',
    `${ns}:upgrader`,
  ]);
  const tr = await kube.request<{ status: { token: string } }>({
    method: 'POST',
    path: `/api/v1/namespaces/${ns}/serviceaccounts/upgrader/token`,
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
  });
  token = tr.status.token;
  const up = await loadUpstream();
  tokenKubeconfig = await writeKubeconfig(tmp, up.server, up, { token });
  secrets.push({ label: 'ServiceAccount bearer token', needles: tokenNeedles(token) });
  secrets.push(...kubeconfigSecrets(await fs.readFile(kubeconfigPath(), 'utf8')));
});

afterAll(async () => {
  await kubectl(['delete', 'clusterrolebinding', binding, '--ignore-not-found'], { reject: false });
  await deleteNamespace(await testKube(), ns);
  await dropNamespace(meshNs);
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe('backup directory permissions', () => {
  it('backup writes its directory 0700 and every file 0600 (subdirectories 0700)', async () => {
    const dir = path.join(tmp, 'perm-backup');
    const res = await runTool(['backup', '--dir', dir, '-n', ns, '--mesh-namespace', meshNs]);
    expect(res.exitCode, res.stderr).toBe(0);
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
    const entries = await walk(dir);
    expect(entries.filter((e) => !e.isDir).length).toBeGreaterThanOrEqual(4);
    const wrong = entries
      .filter((e) => e.mode !== (e.isDir ? 0o700 : 0o600))
      .map((e) => `${path.relative(dir, e.file)} ${e.mode.toString(8)}`);
    expect(wrong).toEqual([]);
  });
});

describe('no credentials in any output or file', () => {
  it('the scanner finds each credential when it is there (positive control)', () => {
    expect(secrets.length).toBeGreaterThanOrEqual(3);
    for (const s of secrets)
      expect(findLeaks('control', `x ${s.needles[0]} y`, secrets)).toContain(`control: ${s.label}`);
  });

  for (const cred of ['admin client certificate', 'ServiceAccount token'] as const) {
    it(`backup, restore, status and plan with the ${cred} kubeconfig (-v) leak nothing`, async () => {
      const kc = cred === 'admin client certificate' ? kubeconfigPath() : tokenKubeconfig;
      const base = ['--kubeconfig', kc, '-v'];
      const dir = path.join(tmp, cred === 'ServiceAccount token' ? 'sa-backup' : 'admin-backup');
      const hostile = await hostileCases(ns)[0]!.build();
      const runs: [string, ToolResult][] = [];
      const run = async (name: string, args: string[]) => {
        runs.push([name, await runTool([...args, ...base], { timeoutMs: 180_000 })]);
      };
      await run('backup', ['backup', '--dir', dir, '-n', ns, '--mesh-namespace', meshNs]);
      await run('restore', ['restore', '--from', dir, '--on-conflict', 'skip']);
      await run('restore --dry-run', ['restore', '--from', dir, '--dry-run', '--on-conflict', 'overwrite']);
      await run('restore of a hostile dir', ['restore', '--from', hostile]);
      await run('status', ['status', '--mesh-namespace', meshNs]);
      await run('plan', ['plan', '--to', '1.7.0', '--mesh-namespace', meshNs, '-o', 'json']);
      await run('plan (refused)', ['plan', '--to', '9.9.9', '--mesh-namespace', meshNs]);
      await fs.rm(hostile, { recursive: true, force: true });

      // The credential worked (so the runs had something to leak): backup and restore succeeded.
      expect(runs[0]![1].exitCode, runs[0]![1].stderr).toBe(0);
      expect(runs[1]![1].exitCode, runs[1]![1].stderr).toBe(0);
      expect(runs[3]![1].exitCode).toBe(2);

      const leaks: string[] = [];
      for (const [name, r] of runs)
        leaks.push(
          ...findLeaks(`${name} stdout`, r.stdout, secrets),
          ...findLeaks(`${name} stderr`, r.stderr, secrets),
        );
      const files = (await walk(dir)).filter((e) => !e.isDir);
      expect(files.map((f) => path.basename(f.file))).toEqual(
        expect.arrayContaining(['manifest.json', 'install.yaml', 'crds.yaml']),
      );
      for (const f of files)
        leaks.push(...findLeaks(path.relative(tmp, f.file), await fs.readFile(f.file, 'utf8'), secrets));
      console.log(
        `[security] ${cred}: scanned ${runs.length} runs (exit ${runs.map(([n, r]) => `${n}=${r.exitCode}`).join(', ')}) and ${files.length} files: ${leaks.length} leaks`,
      );
      expect(leaks).toEqual([]);
    });
  }

  it('an API failure (100% 503 through the fault proxy) with the token kubeconfig prints no credential', async () => {
    const proxy = await startFaultProxy({ rate: 1, seed: 3, kinds: ['unavailable'], maxSeconds: 120, token });
    try {
      const res = await runTool(
        [
          'backup',
          '--dir',
          path.join(tmp, 'fail-backup'),
          '-n',
          ns,
          '--mesh-namespace',
          meshNs,
          '--kubeconfig',
          proxy.kubeconfigPath,
          '-v',
        ],
        { timeoutMs: 90_000 },
      );
      expect(res.exitCode).toBe(1);
      expect(proxy.stats.injected.unavailable).toBeGreaterThan(0);
      await expectRealTransport(proxy);
      expect([...findLeaks('stdout', res.stdout, secrets), ...findLeaks('stderr', res.stderr, secrets)]).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});
