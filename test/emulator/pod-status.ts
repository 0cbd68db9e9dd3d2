/**
 * The status a finished Job pod reports (what kubelet would write when every container exited 0),
 * as a strategic-merge patch for the pod's status subresource.
 */
interface PodSpecLike { spec?: { containers?: { name?: string; image?: string }[] } }

export function succeededStatusPatch(pod: PodSpecLike, now: Date): Record<string, unknown> {
  const t = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const condition = (type: string, status: 'True' | 'False', reason?: string) => ({ type, status, lastTransitionTime: t, ...(reason ? { reason } : {}) });
  return {
    status: {
      phase: 'Succeeded',
      conditions: [
        condition('Initialized', 'True', 'PodCompleted'),
        condition('Ready', 'False', 'PodCompleted'),
        condition('ContainersReady', 'False', 'PodCompleted'),
        condition('PodScheduled', 'True'),
      ],
      containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
        name: c.name ?? '', image: c.image ?? '', imageID: '', ready: false, restartCount: 0, started: false,
        state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: t, finishedAt: t } },
      })),
    },
  };
}
