/**
 * Bad flags and values through the real CLI (issue 7): each is refused with exit 2, the fix named
 * in stderr (the flag to change), and nothing changed on the cluster. A fake NSM 1.6.0 (the
 * nginx-mesh-api Deployment and a Helm release Secret, planted by detect-plant.ts) sits in a unique
 * --mesh-namespace so the checks that need an installed mesh have one.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropNamespace, plantMesh } from './detect-plant.ts';
import { runTool, testKube, uniqueName } from '../support/cluster.ts';
import { collectionPath, core, objectPath } from '../../src/kube/paths.ts';
import { leaseName, leaseNamespace } from '../../src/engine/lease.ts';
import { KubeApiError, type KubeObject } from '../../src/kube/client.ts';

const meshNs = uniqueName('badflags');
let tmp: string;
let before: string;

/** What "nothing changed" means here: the mesh's Deployments (spec, generation) and Secrets (data, resourceVersion). */
async function meshSnapshot(): Promise<string> {
  const kube = await testKube();
  const deps = await kube.request<{ items: KubeObject[] }>({ path: collectionPath(core.deployments, meshNs) });
  const secrets = await kube.request<{ items: KubeObject[] }>({ path: collectionPath(core.secrets, meshNs) });
  // Deployments: generation and spec (status updates by the controllers are not changes by the tool).
  return JSON.stringify([
    ...deps.items.map((o) => ({ name: o.metadata?.name, generation: o.metadata?.generation, spec: o.spec })),
    ...secrets.items.map((o) => ({ name: o.metadata?.name, rv: o.metadata?.resourceVersion, data: o.data })),
  ]);
}

async function leaseExists(): Promise<boolean> {
  try {
    await (await testKube()).request({ path: objectPath(core.leases, leaseName(meshNs), leaseNamespace) });
    return true;
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) return false;
    throw err;
  }
}

beforeAll(async () => {
  await plantMesh(meshNs, { version: '1.6.0', releases: [{}] });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'nsm-badflags-'));
  await fs.writeFile(path.join(tmp, 'garbage-kubeconfig'), 'clusters: [unclosed\n  - {{{\n');
  await fs.mkdir(path.join(tmp, 'a-directory'));
  before = await meshSnapshot();
});

afterAll(async () => {
  await dropNamespace(meshNs);
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

// Each row: the bad input, the arguments (the mesh namespace is added, and --yes and --backup-dir
// for the upgrade, the only command that takes both), the fix stderr must name, and why.
const rows: { name: string; args: () => string[]; fix: RegExp; why: string }[] = [
  {
    name: 'unknown version --to 9.9.9',
    args: () => ['--to', '9.9.9'],
    fix: /fix: pass --to with one of: .*1\.7\.0/,
    why: 'not an NSM release; the fix lists the releases',
  },
  {
    name: '--to lower than installed (1.5.0 < 1.6.0)',
    args: () => ['--to', '1.5.0'],
    fix: /fix: pass --to 1\.6\.0 or later/,
    why: 'NSM cannot be downgraded',
  },
  {
    name: '--resume of a directory without a journal',
    args: () => ['--to', '1.7.0', '--resume', path.join(tmp, 'no-such-run')],
    fix: /Pass the backup directory that the interrupted run printed to --resume/,
    why: 'nothing to resume',
  },
  { name: 'neither --to nor --resume', args: () => [], fix: /Pass --to VERSION/, why: 'nothing to do' },
  {
    name: 'missing nginx-meshctl (none given, none on PATH)',
    args: () => ['--to', '1.7.0', '--method', 'meshctl'],
    fix: /--meshctl/,
    why: 'the meshctl path needs the target version binary',
  },
  {
    name: 'missing nginx-meshctl (--meshctl points at no file)',
    args: () => ['--to', '1.7.0', '--method', 'meshctl', '--meshctl', path.join(tmp, 'nginx-meshctl-1.7.0')],
    fix: /--meshctl PATH/,
    why: 'a binary that does not exist is bad input, not a cluster state',
  },
  {
    name: 'unreadable kubeconfig (no such file)',
    args: () => ['--to', '1.7.0', '--kubeconfig', path.join(tmp, 'missing-kubeconfig')],
    fix: /--kubeconfig FILE/,
    why: 'cannot load it',
  },
  {
    name: 'unreadable kubeconfig (a directory)',
    args: () => ['--to', '1.7.0', '--kubeconfig', path.join(tmp, 'a-directory')],
    fix: /--kubeconfig FILE/,
    why: 'EISDIR',
  },
  {
    name: 'unreadable kubeconfig (not YAML)',
    args: () => ['--to', '1.7.0', '--kubeconfig', path.join(tmp, 'garbage-kubeconfig')],
    fix: /--kubeconfig FILE/,
    why: 'a parse error must not become a stack trace',
  },
  {
    name: 'unknown context',
    args: () => ['--to', '1.7.0', '--context', 'no-such-context'],
    fix: /--context NAME/,
    why: 'the fix lists the contexts the kubeconfig has',
  },
  {
    name: 'bad --timeout (10x)',
    args: () => ['--to', '1.7.0', '--timeout', '10x'],
    fix: /like 90s, 10m or 1h30m for --timeout/,
    why: 'not a duration',
  },
  {
    name: 'bad --timeout (0s)',
    args: () => ['--to', '1.7.0', '--timeout', '0s'],
    fix: /--timeout/,
    why: 'a zero wait cannot succeed',
  },
  {
    name: 'bad --concurrency (0)',
    args: () => ['--to', '1.7.0', '--concurrency', '0'],
    fix: /whole number from 1 to 256/,
    why: 'nothing would run',
  },
  {
    name: 'bad --concurrency (abc)',
    args: () => ['--to', '1.7.0', '--concurrency', 'abc'],
    fix: /--concurrency|whole number/,
    why: 'not a number',
  },
  {
    name: 'bad --concurrency (1.5)',
    args: () => ['--to', '1.7.0', '--concurrency', '1.5'],
    fix: /whole number from 1 to 256/,
    why: 'not whole',
  },
  {
    name: 'unknown flag (--too 1.7.0)',
    args: () => ['--too', '1.7.0'],
    fix: /--help/,
    why: 'a typo must not be ignored',
  },
  {
    name: 'plan: unknown version',
    args: () => ['plan', '--to', '9.9.9'],
    fix: /fix: pass --to with one of/,
    why: 'the plan command refuses the same way',
  },
  {
    name: 'restart: --namespace that is not a name',
    args: () => ['restart', '--namespace', 'shop/../kube-system'],
    fix: /invalid namespace "shop\/\.\.\/kube-system": not a Kubernetes name/,
    why: 'an invalid name is bad input (exit 2), not a failure with a stack trace',
  },
  {
    name: 'backup: bad --concurrency',
    args: () => ['backup', '--dir', path.join(tmp, 'never-written'), '--concurrency', '0'],
    fix: /whole number from 1 to 256/,
    why: 'backup parses it before touching the cluster',
  },
];

describe('bad flags and values: exit 2, the fix named, nothing changed', () => {
  for (const row of rows) {
    it(`${row.name} (${row.why})`, async () => {
      const backupDir = path.join(tmp, `backup-${rows.indexOf(row)}`);
      const args = row.args();
      const upgrade = !['plan', 'backup', 'restore', 'status', 'restart'].includes(args[0]!);
      const res = await runTool(
        [...args, '--mesh-namespace', meshNs, ...(upgrade ? ['--yes', '--backup-dir', backupDir] : [])],
        {
          // No nginx-meshctl on PATH: only what the flags name.
          env: { PATH: '/usr/local/bin:/usr/bin:/bin' },
          timeoutMs: 120_000,
        },
      );
      console.log(
        `[badflags] ${row.name}: exit ${res.exitCode}: ${res.stderr
          .split('\n')
          .filter((l) => /^error|fix|Pass|Use|Drop|Pick/.test(l.trim()))
          .join(' | ')
          .slice(0, 300)}`,
      );
      expect(res.exitCode, res.stderr).toBe(2);
      expect(res.stderr).toMatch(row.fix);
      expect(res.stderr).not.toMatch(/\n\s+at .*\.ts:\d+/); // no stack trace
      await expect(fs.stat(backupDir)).rejects.toThrow(/ENOENT/);
      expect(await leaseExists()).toBe(false);
      expect(await meshSnapshot()).toBe(before);
    });
  }
});
