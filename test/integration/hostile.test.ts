/**
 * The hostile backup corpus of issue 7, through the real CLI: `restore --from DIR` must refuse each
 * directory with exit 2 and its own message, and apply nothing (checked on the cluster). Cases the
 * backup fixtures already build (test/fixtures/backups/build.ts) are reused by name; the deeply
 * nested document and the 200 MB file are generated here, in temp dirs, at test time.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostileCases, validFiles, writeFixture, type FixtureFile } from '../fixtures/backups/build.ts';
import { createNamespace, deleteNamespace, liveObjects } from '../fixtures/backups/cluster.ts';
import { catalogCrdsReady } from '../support/crd-guard.ts';
import { kubectl, runTool, testKube, uniqueName } from '../support/cluster.ts';

const ns = uniqueName('hostile');
const dirs: string[] = [];

function trafficSplitFile(content: string): FixtureFile {
  return {
    path: 'resources/trafficsplits.split.smi-spec.io.yaml',
    kind: 'TrafficSplit',
    group: 'split.smi-spec.io',
    version: 'v1alpha3',
    content,
    count: 1,
  };
}

/** A TrafficSplit whose spec nests `depth` flow sequences: a parser without a depth limit overflows its stack. */
function deeplyNested(depth: number): string {
  return `apiVersion: split.smi-spec.io/v1alpha3\nkind: TrafficSplit\nmetadata: {name: deep, namespace: ${ns}}\nspec: ${'['.repeat(depth)}${']'.repeat(depth)}\n`;
}

function reused(name: string): () => Promise<string> {
  const c = hostileCases(ns).find((h) => h.name === name);
  if (!c) throw new Error(`test/fixtures/backups/build.ts has no hostile case "${name}"`);
  return c.build;
}

/** Each row: the case, the message restore gives for it, and how the directory is made. */
const corpus: { name: string; message: string; expect: RegExp; build: () => Promise<string> }[] = [
  {
    name: 'tampered hash',
    message: 'sha256 ... does not match',
    expect: /sha256 .* does not match/,
    build: reused('hash mismatch'),
  },
  {
    name: 'ClusterRoleBinding slipped into a TrafficSplit file',
    message: 'ClusterRoleBinding ... may only hold TrafficSplit',
    expect: /ClusterRoleBinding .* may only hold TrafficSplit/,
    build: reused('unknown kind (ClusterRoleBinding) inside a catalog file'),
  },
  {
    name: 'ClusterRoleBinding file listed in the manifest',
    message: 'not a catalog resource file',
    expect: /not a catalog resource file/,
    build: reused('unknown kind file in the manifest'),
  },
  {
    name: 'YAML alias bomb (9^4 expansion)',
    message: 'YAML anchor at line 1: anchors are refused',
    expect: /YAML anchor at line 1: anchors are refused/,
    build: reused('YAML alias bomb'),
  },
  {
    name: 'deeply nested document (100,000 levels)',
    message: 'nesting exceeded maxDepth',
    expect: /nesting exceeded maxDepth/,
    build: () => writeFixture({ files: [trafficSplitFile(deeplyNested(100_000))] }),
  },
  {
    name: 'name with path separators (../../api/v1/namespaces)',
    message: 'invalid name',
    expect: /invalid name/,
    build: reused('name with a path separator'),
  },
  {
    name: 'path traversal in manifest.json (../../etc/passwd)',
    message: 'not a catalog resource file',
    expect: /not a catalog resource file/,
    build: reused('path traversal in the manifest'),
  },
  {
    name: '200 MB resource file',
    message: 'is 209715200 bytes, over the ...-byte limit',
    expect: /is 209715200 bytes, over the \d+-byte limit/,
    build: async () => {
      const dir = await writeFixture({ files: validFiles(ns) });
      // Sparse: 200 MB by size, no disk used; restore must refuse it from stat, before reading it.
      await fs.truncate(path.join(dir, 'resources/trafficsplits.split.smi-spec.io.yaml'), 200 * 1024 * 1024);
      return dir;
    },
  },
  { name: 'non-UTF-8 bytes', message: 'not valid UTF-8', expect: /not valid UTF-8/, build: reused('non-UTF-8 bytes') },
  {
    name: 'symlinked resource file',
    message: 'symbolic link',
    expect: /symbolic link/,
    build: reused('symlinked file'),
  },
];

beforeAll(async () => {
  const kube = await testKube();
  await catalogCrdsReady(kube);
  await createNamespace(kube, ns);
});

afterAll(async () => {
  await deleteNamespace(await testKube(), ns);
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

describe('restore --from a hostile backup: exit 2, its own message, nothing applied', () => {
  const seen = new Map<string, string>();
  for (const c of corpus) {
    it(`${c.name} -> "${c.message}"`, async () => {
      const dir = await c.build();
      dirs.push(dir);
      const started = Date.now();
      const res = await runTool(['restore', '--from', dir, '--on-conflict', 'overwrite'], { timeoutMs: 120_000 });
      const firstLine = res.stderr.split('\n')[0] ?? '';
      console.log(
        `[hostile] ${c.name}: exit ${res.exitCode} in ${Date.now() - started} ms: ${firstLine.replace(dir, 'DIR')}`,
      );
      expect(res.exitCode, res.stderr).toBe(2);
      expect(firstLine).toMatch(c.expect);
      // The second line names the fix (resource-file refusals also say "Nothing was applied").
      expect(res.stderr.split('\n')[1] ?? '').toMatch(/backup|--from|manifest/i);
      expect(res.stderr).not.toMatch(/\n\s+at /); // a refusal, not a crash with a stack trace
      seen.set(c.name, firstLine.replace(/^.*?\.yaml: |^.*?manifest\.json: /, ''));
      expect((await liveObjects(await testKube(), ns)).size).toBe(0);
      expect((await kubectl(['get', 'clusterrolebinding', 'pwn'], { reject: false })).exitCode).not.toBe(0);
      await expect(fs.stat(path.join(dir, 'restore-report.json'))).rejects.toThrow(/ENOENT/);
    });
  }

  it('every case got its own message', () => {
    const distinctKinds = new Set(corpus.map((c) => c.message));
    expect(seen.size).toBe(corpus.length);
    expect(distinctKinds.size).toBeGreaterThanOrEqual(corpus.length - 2); // two pairs share a check by design (catalog file rule)
  });

  it('the valid sibling of these fixtures restores (the refusals are not blanket)', async () => {
    const dir = await writeFixture({ files: validFiles(ns), namespace: ns });
    dirs.push(dir);
    const res = await runTool(['restore', '--from', dir]);
    expect(res.exitCode, res.stderr).toBe(0);
    expect([...(await liveObjects(await testKube(), ns)).keys()].sort()).toEqual(['RateLimit/rl', 'TrafficSplit/web']);
  });
});
