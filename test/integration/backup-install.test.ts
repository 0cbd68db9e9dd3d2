/**
 * install.yaml against a release written by the real Helm 3: the newest release Secret's
 * user-supplied values and chart metadata are decoded, the mesh-config ConfigMap is captured,
 * and no Secret is written into the backup.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupMesh } from '../../src/backup/backup.ts';
import { collectionPath } from '../../src/kube/paths.ts';
import { createNamespace, deleteNamespace } from '../fixtures/backups/cluster.ts';
import { clusterEnv, kubeconfigPath, testDeps, testKube, uniqueName } from '../support/cluster.ts';

const ns = uniqueName('bk-install');
let work: string;
const helm = clusterEnv().HELM3;

beforeAll(async () => {
  if (!helm) return;
  await createNamespace(await testKube(), ns);
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'nsm-bk-install-'));
  // A stand-in chart with the real chart's name and versions: Helm writes a real release Secret.
  const chart = path.join(work, 'chart');
  await fs.mkdir(path.join(chart, 'templates'), { recursive: true });
  await fs.writeFile(
    path.join(chart, 'Chart.yaml'),
    'apiVersion: v2\nname: nginx-service-mesh\nversion: 0.7.0\nappVersion: 1.7.0\n',
  );
  await fs.writeFile(path.join(chart, 'values.yaml'), 'mtls:\n  mode: permissive\n');
  // Like the real 1.x charts: mesh-config.json under binaryData (base64).
  await fs.writeFile(
    path.join(chart, 'templates/cm.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mesh-config\nbinaryData:\n  mesh-config.json: {{ printf "{\\"mtls\\":{\\"mode\\":\\"%s\\"},\\"accessControlMode\\":\\"allow\\"}" .Values.mtls.mode | b64enc }}\n',
  );
  const base = ['--kubeconfig', kubeconfigPath(), '-n', ns];
  await execa(helm, ['install', 'nsm', chart, ...base, '--set', 'mtls.mode=permissive']);
  await execa(helm, [
    'upgrade',
    'nsm',
    chart,
    ...base,
    '--set',
    'mtls.mode=strict',
    '--set',
    'registry.server=registry.example.org',
  ]);
});

afterAll(async () => {
  await deleteNamespace(await testKube(), ns);
  await fs.rm(work, { recursive: true, force: true });
});

describe('install.yaml', () => {
  // Skipped only when .cluster/env exports no HELM3 binary (the release must be written by real Helm).
  it('holds the newest release values, chart versions and mesh-config, and no Secret', async (ctx) => {
    ctx.skip(!helm, '.cluster/env exports no HELM3 binary (the release must be written by real Helm)');
    const dir = path.join(work, 'backup');
    const s = await backupMesh(await testDeps(), { dir, namespace: ns, concurrency: 4, meshNamespace: ns });
    expect(s.meshVersion).toBe('1.7.0');
    const install = load(await fs.readFile(path.join(dir, 'install.yaml'), 'utf8')) as {
      helmRelease: {
        name: string;
        revision: number;
        status: string;
        chart: { name: string; version: string; appVersion: string };
        values: { mtls: { mode: string } };
      };
      meshConfigMap: { name: string; data: Record<string, unknown> };
    };
    expect(install.helmRelease).toMatchObject({
      name: 'nsm',
      revision: 2,
      status: 'deployed',
      chart: { name: 'nginx-service-mesh', version: '0.7.0', appVersion: '1.7.0' },
    });
    expect(install.helmRelease.values.mtls.mode).toBe('strict');
    expect(install.meshConfigMap).toEqual({
      name: 'mesh-config',
      data: { 'mesh-config.json': { mtls: { mode: 'strict' }, accessControlMode: 'allow' } },
    });
    const all = (
      await Promise.all(
        (await fs.readdir(dir, { recursive: true })).map(async (f) => {
          const p = path.join(dir, String(f));
          return (await fs.stat(p)).isFile() ? fs.readFile(p, 'utf8') : '';
        }),
      )
    ).join('\n');
    expect(all).not.toMatch(/kind: Secret|sh\.helm\.release|H4sI/); // H4sI: base64 of a gzip header
    const secrets = await (
      await testKube()
    ).request<{ items: unknown[] }>({
      path: collectionPath({ group: '', version: 'v1', plural: 'secrets', namespaced: true }, ns),
    });
    expect(secrets.items.length).toBe(2); // both revisions exist; only the newest was read
  });
});
