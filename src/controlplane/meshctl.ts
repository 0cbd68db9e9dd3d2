/**
 * Pure argument builders for nginx-meshctl (the vendor CLI). Each returns a Command for the one
 * runner (runner.ts); nothing here executes anything.
 *
 * Global flags come before the subcommand: `nginx-meshctl [-k KUBECONFIG] -n NS -t TIMEOUT <cmd>`.
 */
import type { Arg } from '../secret.ts';
import { isAtLeast } from '../version-compare.ts';
import type { Command } from '../exec/runner.ts';

/** Which binary, against which mesh. */
export interface MeshctlTarget {
  /** Path of the nginx-meshctl binary of the version this command needs. */
  bin: string;
  namespace: string;
  /** Duration text as nginx-meshctl takes it ("5m", "10m"). */
  timeout: string;
  kubeconfig?: string | undefined;
}

/** Subcommand flags that not every version has, with the reason (FACTS.md "nginx-meshctl"). */
export const meshctlFlagSupport: readonly { command: string; flag: string; since: string; reason: string }[] = [
  {
    command: 'upgrade',
    flag: '--registry-server',
    since: '2.0.0',
    reason: 'nginx-meshctl 2.0 upgrade can switch the image registry; 1.x upgrade reuses the deployed one',
  },
  {
    command: 'upgrade',
    flag: '--image-tag',
    since: '2.0.0',
    reason: 'nginx-meshctl 2.0 upgrade can pin the image tag; 1.x upgrade always deploys its own version',
  },
];

/** True when nginx-meshctl `version`'s `command` accepts `flag`. */
export function meshctlSupports(version: string, command: string, flag: string): boolean {
  const row = meshctlFlagSupport.find((r) => r.command === command && r.flag === flag);
  return row === undefined || isAtLeast(version, row.since);
}

function globals(t: MeshctlTarget): string[] {
  return [...(t.kubeconfig ? ['-k', t.kubeconfig] : []), '-n', t.namespace, '-t', t.timeout];
}

/**
 * `nginx-meshctl -n NS -t T upgrade --yes` with the binary of the TARGET version: applies the
 * target's CRDs, then an atomic Helm upgrade of release nginx-service-mesh reusing old values.
 * --registry-server / --image-tag are added only where the target supports them (2.0+);
 * elsewhere they are left out and reported in `ignored`.
 */
export function meshctlUpgrade(
  t: MeshctlTarget,
  opts: { version: string; registryServer?: string | undefined; imageTag?: string | undefined },
): Command & { ignored: string[] } {
  const args = [...globals(t), 'upgrade', '--yes'];
  const ignored: string[] = [];
  for (const [flag, value] of [
    ['--registry-server', opts.registryServer],
    ['--image-tag', opts.imageTag],
  ] as const) {
    if (value === undefined) continue;
    if (meshctlSupports(opts.version, 'upgrade', flag)) args.push(flag, value);
    else ignored.push(flag);
  }
  return { bin: t.bin, args, writes: true, ignored };
}

/** `nginx-meshctl -n NS -t T remove --yes` with the binary of the INSTALLED version (the docs' rule). */
export function meshctlRemove(t: MeshctlTarget): Command {
  return { bin: t.bin, args: [...globals(t), 'remove', '--yes'], writes: true };
}

/** `nginx-meshctl -n NS -t T deploy FLAGS...` with the binary of the TARGET version; flags from deploy-flags.ts. */
export function meshctlDeploy(t: MeshctlTarget, flags: readonly Arg[]): Command {
  return { bin: t.bin, args: [...globals(t), 'deploy', ...flags], writes: true };
}

/** `nginx-meshctl version`: read-only; the first line names the binary's own version. */
export function meshctlVersion(bin: string): Command {
  return { bin, args: ['version'], writes: false, timeoutMs: 30_000 };
}

/** The binary's version from `nginx-meshctl version` output (first line `nginx-meshctl - v1.7.0`). */
export function parseMeshctlVersion(stdout: string): string | undefined {
  const first = stdout.split('\n', 1)[0] ?? '';
  const m = /^nginx-meshctl\s+-\s+v?(\d+\.\d+\.\d+)\b/.exec(first.trim());
  return m?.[1];
}
