/**
 * nginx-meshctl 1.7.0 (the stand-in, or in conformance the real binary) whose deploy fails after it
 * installed part of the mesh, as the real binary does when the control plane never gets healthy: it
 * deploys, makes the control plane unschedulable (Recreate, a node selector no node has, a 1 s
 * progress deadline) and exits 1. `firstOnly`: only the first deploy fails (a marker file
 * `failed-once` in `dir` records it). --help and --dry-run (the tool's preflight) pass straight through.
 */
import fs from 'node:fs';
import path from 'node:path';
import { clusterEnv } from './cluster.ts';
import { scenarioMeshctl } from './upgrade-scenario.ts';

/**
 * Writes an executable wrapper around a real (or stand-in) nginx-meshctl: commands whose arguments
 * match `passThrough` (a case pattern) and every subcommand but `on` go straight to it; `on` runs
 * `body` (shell lines, ending with `;;`). Returns `bin`.
 */
export function meshctlWrapper(
  bin: string,
  real: string,
  opts: { passThrough: string; on: string; body: readonly string[] },
): string {
  fs.writeFileSync(
    bin,
    [
      '#!/bin/sh',
      `real='${real}'`,
      `case " $* " in ${opts.passThrough}) exec "$real" "$@";; esac`,
      `case " $* " in *" ${opts.on} "*)`,
      ...opts.body,
      'esac',
      'exec "$real" "$@"',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return bin;
}

export function failingMeshctlDeploy(dir: string, namespace: string, opts: { firstOnly: boolean }): string {
  const bin = path.join(dir, 'nginx-meshctl-1.7.0');
  const patch = JSON.stringify({
    spec: {
      progressDeadlineSeconds: 1,
      strategy: { type: 'Recreate', rollingUpdate: null },
      template: { spec: { nodeSelector: { 'nsm-upgrade-test/no-such-node': 'true' } } },
    },
  });
  return meshctlWrapper(bin, scenarioMeshctl('1.7.0'), {
    passThrough: '*" --help "*|*" --dry-run "*',
    on: 'deploy',
    body: [
      `  marker='${path.join(dir, 'failed-once')}'`,
      `  if [ ${opts.firstOnly ? '! -f "$marker"' : '1 = 1'} ]; then`,
      '    "$real" "$@" || exit $?',
      '    touch "$marker"',
      // The tool gives its children no KUBECONFIG (only -k with the run's own): name the test cluster's.
      `    '${clusterEnv().KUBECTL}' --kubeconfig '${clusterEnv().KUBECONFIG}' -n '${namespace}' patch deployment nginx-mesh-api --type merge -p '${patch}' >/dev/null || exit 2`,
      '    echo "Connection to NGINX Service Mesh API Server failed." >&2',
      '    exit 1',
      '  fi;;',
    ],
  });
}
