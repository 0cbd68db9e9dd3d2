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
      `    kubectl() { '${clusterEnv().KUBECTL}' --kubeconfig '${clusterEnv().KUBECONFIG}' -n '${namespace}' "$@"; }`,
      `    kubectl patch deployment nginx-mesh-api --type merge -p '${patch}' >/dev/null || exit 2`,
      // Kubernetes' Deployment controller can keep the old rollout's Progressing "NewReplicaSetAvailable" when
      // the Recreate rollout's old pod goes before it records the new ReplicaSet; it then counts the rollout
      // complete and never checks the 1 s deadline (syncRolloutStatus), and a resumed run waits out its
      // 3-minute grace (a CI run once took 237 s here instead of 62). A deploy that never got healthy has no
      // such leftover: clear the stale conditions until the controller reports the deadline exceeded.
      '    for i in 1 2 3 4 5 6 7 8 9 10; do',
      `      r=$(kubectl get deployment nginx-mesh-api -o jsonpath='{.status.conditions[?(@.type=="Progressing")].reason}')`,
      '      [ "$r" = ProgressDeadlineExceeded ] && break',
      `      [ "$r" = NewReplicaSetAvailable ] && [ $i -ge 3 ] && kubectl patch deployment nginx-mesh-api --subresource=status --type=json -p '[{"op":"remove","path":"/status/conditions"}]' >/dev/null 2>&1`,
      '      sleep 1',
      '    done',
      '    echo "Connection to NGINX Service Mesh API Server failed." >&2',
      '    exit 1',
      '  fi;;',
    ],
  });
}
