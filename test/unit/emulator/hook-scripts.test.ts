import { describe, expect, it } from 'vitest';
import {
  fallbackDeletions,
  parseDeletions,
  planCleanup,
  scriptOf,
  stripsSpireAgent,
  succeededStatusPatch,
} from '../../emulator/hook-scripts.ts';

// Scripts shaped like the charts' hook scripts (rendered), written for these tests.
const sentinel16 = `while [ $(kubectl get pods -A | wc -w) -gt 0 ]; do
  sleep 5
done
kubectl delete daemonset spire-agent
kubectl delete serviceaccount spire-agent
kubectl delete scc nginx-mesh-spire-agent-permissions
kubectl delete secret nginx-mesh-registry-key
kubectl delete clusterrolebinding csi-driver-sentinel.builtin.nsm.nginx`;

const sentinel17 = `kubectl delete daemonset spiffe-csi-driver --ignore-not-found
kubectl delete rolebinding system:openshift:scc:nginx-mesh-spiffe-csi-driver-permissions --ignore-not-found
kubectl delete daemonset spire-agent --ignore-not-found`;

const cleanup16 = `res=$(kubectl get pods -A | wc -w)
if [ $res -eq 0 ]; then
  kubectl delete daemonset spire-agent
else
  kubectl patch daemonset spire-agent --type=json -p="[]"
  kubectl create -f /tmp/config/sentinel.yaml
fi`;

describe('parseDeletions', () => {
  it('reads 1.6 deletes in order: the spire-agent DaemonSet, no CSIDriver', () => {
    expect(parseDeletions(sentinel16)).toEqual([
      { kind: 'daemonset', name: 'spire-agent' },
      { kind: 'serviceaccount', name: 'spire-agent' },
      { kind: 'scc', name: 'nginx-mesh-spire-agent-permissions' },
      { kind: 'secret', name: 'nginx-mesh-registry-key' },
      { kind: 'clusterrolebinding', name: 'csi-driver-sentinel.builtin.nsm.nginx' },
    ]);
  });
  it('reads 1.7+ deletes as written (the CSIDriver goes with the release, not the script)', () => {
    expect(parseDeletions(sentinel17)).toEqual([
      { kind: 'daemonset', name: 'spiffe-csi-driver' },
      { kind: 'rolebinding', name: 'system:openshift:scc:nginx-mesh-spiffe-csi-driver-permissions' },
      { kind: 'daemonset', name: 'spire-agent' },
    ]);
  });
  it('skips unrendered templates and unknown kinds', () => {
    expect(parseDeletions('kubectl delete secret {{ include "x" . }}\nkubectl delete widget w\n')).toEqual([]);
  });
});

describe('planCleanup', () => {
  it('hands over to the sentinel while injected pods remain (1.6 also strips spire-agent)', () => {
    expect(planCleanup(2, cleanup16)).toEqual({ action: 'create-sentinel', stripSpireAgent: true });
    expect(planCleanup(1, sentinel17)).toEqual({ action: 'create-sentinel', stripSpireAgent: false });
  });
  it('deletes the CSI pieces directly when no injected pod is left', () => {
    expect(planCleanup(0, cleanup16)).toEqual({
      action: 'delete',
      deletions: [{ kind: 'daemonset', name: 'spire-agent' }],
    });
  });
  it('falls back to the known CSI pieces when the script is not readable', () => {
    expect(planCleanup(0, 'true')).toEqual({ action: 'delete', deletions: fallbackDeletions });
  });
  it('detects the spire-agent strip only in scripts that do it', () => {
    expect(stripsSpireAgent(cleanup16)).toBe(true);
    expect(stripsSpireAgent(sentinel17)).toBe(false);
  });
});

describe('scriptOf and the finished-pod status', () => {
  it('joins command and args of every container', () => {
    expect(scriptOf({ spec: { containers: [{ command: ['/bin/sh', '-c'], args: ['kubectl delete scc x'] }] } })).toBe(
      '/bin/sh\n-c\nkubectl delete scc x',
    );
  });
  it('marks the pod Succeeded with every container terminated with exit code 0', () => {
    const patch = succeededStatusPatch(
      { spec: { containers: [{ name: 'c', image: 'i' }] } },
      new Date('2026-01-01T00:00:00.123Z'),
    ) as { status: Record<string, unknown> };
    expect(patch.status.phase).toBe('Succeeded');
    expect(patch.status.containerStatuses).toEqual([
      expect.objectContaining({
        name: 'c',
        state: { terminated: expect.objectContaining({ exitCode: 0, finishedAt: '2026-01-01T00:00:00Z' }) },
      }),
    ]);
    expect(patch.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'Ready', status: 'False', reason: 'PodCompleted' }),
    );
  });
});
