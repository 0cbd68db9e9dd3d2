/**
 * The record of the last restart of a mesh's workloads: which workloads it brought over, which it
 * failed on (and the cluster's reason), which it never reached. It lets `restart` continue a restart
 * that stopped at the failure gate (or was interrupted) without restarting what is done, and
 * `status` say for each workload what the last restart did to it.
 *
 * Kept in the cluster, not on the operator's machine, so any operator sees it: a ConfigMap
 * `nsm-upgrade.<mesh namespace>.restart` beside the run's Lease in namespace `default` (the mesh
 * namespace is deleted by a removal), labelled as this tool's. It is written while the Lease is
 * held: at the start, at most every few seconds while workloads finish, and at the end.
 *
 * Earlier versions named it `nsm-upgrade.<mesh namespace>.reroll` (legacyRecordName): a record under
 * that name is still read when there is none under the new one, and deleted once the new one is written.
 */
import type { Deps } from '../deps.ts';
import { KubeApiError } from '../kube/client.ts';
import { collectionPath, core, objectPath } from '../kube/paths.ts';
import { workloadKey, type WorkloadRef } from './owners.ts';

/** Where the record lives (the Lease's namespace: src/engine/lease.ts). */
export const recordNamespace = 'default';
export const recordName = (meshNamespace: string) => `nsm-upgrade.${meshNamespace}.restart`;
/** The record's name as earlier versions wrote it: read when the new one is absent, deleted once it is written. */
export const legacyRecordName = (meshNamespace: string) => `nsm-upgrade.${meshNamespace}.reroll`;
export const recordLabel = { 'app.kubernetes.io/managed-by': 'kubectl-nsm-upgrade' } as const;

export type RestartState = 'pending' | 'rolled' | 'evicted' | 'failed' | 'timed-out' | 'not-started' | 'skipped';

export interface RestartRecord {
  /** The run that restarted them (an upgrade's or rollback's run id, or restart's own). */
  runId: string;
  /** upgrade, rollback or restart. */
  operation: string;
  targetVersion: string;
  mode: 'behind' | 'all';
  /** The namespace filter (`restart -n`), if any. */
  namespace?: string | undefined;
  startedAt: string;
  updatedAt: string;
  /** running (or killed while running), stopped at the failure gate, interrupted, finished. */
  state: 'running' | 'stopped-at-gate' | 'interrupted' | 'finished';
  maxFailures: number;
  /** `namespace/Kind/name` -> what the restart did to it, with the reason for failures and skips. */
  workloads: Record<string, { state: RestartState; reason?: string }>;
}

export const isContinuable = (r: RestartRecord) => r.state !== 'finished';

/** The workloads the record says were brought over (continuing restarts only the others). */
export function rolledKeys(r: RestartRecord): Set<string> {
  return new Set(
    Object.entries(r.workloads)
      .filter(([, w]) => w.state === 'rolled' || w.state === 'evicted')
      .map(([k]) => k),
  );
}

interface ConfigMapLike {
  metadata?: { resourceVersion?: string };
  data?: Record<string, string>;
}

async function readRecordNamed(deps: Pick<Deps, 'kube'>, name: string): Promise<RestartRecord | undefined> {
  try {
    const cm = await deps.kube.request<ConfigMapLike>({ path: objectPath(core.configmaps, name, recordNamespace) });
    const parsed = JSON.parse(cm.data?.['record.json'] ?? 'null') as RestartRecord | null;
    return parsed && typeof parsed === 'object' && parsed.workloads && typeof parsed.workloads === 'object'
      ? parsed
      : undefined;
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) return undefined;
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/**
 * Reads the record, or undefined when there is none (or it cannot be parsed: a record is advisory).
 * Without one under its name, the record an earlier version wrote under legacyRecordName is the last restart's.
 */
export async function readRestartRecord(
  deps: Pick<Deps, 'kube'>,
  meshNamespace: string,
): Promise<RestartRecord | undefined> {
  return (
    (await readRecordNamed(deps, recordName(meshNamespace))) ?? readRecordNamed(deps, legacyRecordName(meshNamespace))
  );
}

/** Creates or replaces the record. */
export async function writeRestartRecord(
  deps: Pick<Deps, 'kube'>,
  meshNamespace: string,
  record: RestartRecord,
): Promise<void> {
  const body = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: recordName(meshNamespace), namespace: recordNamespace, labels: { ...recordLabel } },
    data: { 'record.json': JSON.stringify(record) },
  };
  try {
    await deps.kube.request({
      method: 'PUT',
      path: objectPath(core.configmaps, recordName(meshNamespace), recordNamespace),
      body,
    });
  } catch (err) {
    if (!(err instanceof KubeApiError && err.status === 404)) throw err;
    await deps.kube.request({ method: 'POST', path: collectionPath(core.configmaps, recordNamespace), body });
  }
}

/** Deletes the record an earlier version wrote under legacyRecordName, if any: once the new one is written it is out of date. */
export async function deleteLegacyRecord(deps: Pick<Deps, 'kube'>, meshNamespace: string): Promise<void> {
  try {
    await deps.kube.request({
      method: 'DELETE',
      path: objectPath(core.configmaps, legacyRecordName(meshNamespace), recordNamespace),
    });
  } catch (err) {
    if (!(err instanceof KubeApiError && err.status === 404)) throw err;
  }
}

/**
 * Keeps a record up to date while a restart runs: `set` changes a workload's entry, and the record
 * is written at most every `everyMs` (and by `flush`). A failed write is reported once through
 * `warn` and retried at the next flush: losing the record must not stop the restart. After the
 * first write the record under the earlier name is deleted (deleteLegacyRecord), once.
 */
export function createRecorder(
  deps: Pick<Deps, 'kube' | 'clock'>,
  meshNamespace: string,
  record: RestartRecord,
  opts: { everyMs?: number; warn: (m: string) => void },
) {
  const everyMs = opts.everyMs ?? 3000;
  let lastWrite = 0;
  let warned = false;
  let legacyDeleted = false;
  let writing: Promise<void> = Promise.resolve();
  const write = () => {
    record.updatedAt = new Date(deps.clock.now()).toISOString();
    lastWrite = deps.clock.now();
    const snapshot = structuredClone(record);
    writing = writing
      .then(() => writeRestartRecord(deps, meshNamespace, snapshot))
      .then(
        async () => {
          if (legacyDeleted) return;
          legacyDeleted = true;
          await deleteLegacyRecord(deps, meshNamespace).catch((err: unknown) =>
            opts.warn(
              `could not delete ConfigMap ${recordNamespace}/${legacyRecordName(meshNamespace)}, the record of an earlier version: ${(err as Error).message}; delete it with kubectl delete configmap -n ${recordNamespace} ${legacyRecordName(meshNamespace)}`,
            ),
          );
        },
        (err: unknown) => {
          if (!warned)
            opts.warn(
              `could not record the restart's progress in ConfigMap ${recordNamespace}/${recordName(meshNamespace)}: ${(err as Error).message}`,
            );
          warned = true;
        },
      );
    return writing;
  };
  return {
    record,
    set(ref: WorkloadRef, state: RestartState, reason?: string) {
      record.workloads[workloadKey(ref)] = reason ? { state, reason } : { state };
      if (deps.clock.now() - lastWrite >= everyMs) void write();
    },
    async flush(state?: RestartRecord['state']) {
      if (state) record.state = state;
      await write();
    },
  };
}

export type Recorder = ReturnType<typeof createRecorder>;
