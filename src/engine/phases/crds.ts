import { loadAll } from 'js-yaml';
import type { Deps } from '../../deps.ts';
import { KubeApiError, type KubeObject } from '../../kube/client.ts';
import { collectionPath, core, objectPath } from '../../kube/paths.ts';
import { listAll } from '../../kube/list.ts';
import { crdDeletionNudger, stalledDeletion, type DeletingCrd } from '../../kube/crd-deletion.ts';
import { StepError } from '../../errors.ts';
import { formatCommand } from '../../exec/runner.ts';
import { waitForCrd } from '../../backup/crd-wait.ts';
import { notYet, ready, waitFor } from '../../wait.ts';
import { verifyBackup } from '../../backup/verify.ts';
import { meshCrdSelector } from '../../mesh/catalog.ts';
import { step, type Executors } from '../step.ts';
import { putCrdsBack } from './restore-crds.ts';

/**
 * Phase: the mesh's CRDs. Helm in place applies the target chart's CRDs first (Helm does not
 * upgrade them); a Helm removal deletes them; a rollback puts the backed-up ones back.
 */

const fieldManager = 'kubectl-nsm-upgrade';

/**
 * Splits `helm show crds` output into documents. Helm 3 prints the chart's CRD files one after
 * the other without a `---` between them when a file does not start with one, so two top-level
 * `apiVersion:` lines in one document mean a new object began there.
 */
export function splitCrdDocuments(text: string): string[] {
  const hasContent = (part: string) =>
    part.split('\n').some((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
  return text
    .split(/^---[ \t]*$/m)
    .flatMap((chunk) => chunk.split(/^(?=apiVersion:)/m))
    .filter(hasContent);
}

/** The CustomResourceDefinitions in `helm show crds` output. */
export function crdsInYaml(text: string): KubeObject[] {
  const docs = splitCrdDocuments(text).flatMap((d) => loadAll(d));
  return docs.filter(
    (d): d is KubeObject =>
      typeof d === 'object' &&
      d !== null &&
      (d as KubeObject).kind === 'CustomResourceDefinition' &&
      typeof (d as KubeObject).metadata?.name === 'string',
  );
}

/**
 * Applies CRDs server-side (as `kubectl apply --server-side --force-conflicts` would), because
 * Helm never upgrades the CRDs in a chart's crds/ folder. Waits until each is Established.
 */
export async function applyCrdsFromYaml(
  deps: Deps,
  text: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<string[]> {
  const crds = crdsInYaml(text);
  if (crds.length === 0)
    throw new StepError(
      'apply-crds',
      'the chart has no CRDs (helm show crds printed none)',
      'Check --chart: it must be the nginx-service-mesh chart.',
    );
  for (const crd of crds) {
    await deps.kube.request({
      method: 'PATCH',
      path: objectPath(core.crds, crd.metadata!.name!),
      query: { fieldManager, force: true },
      contentType: 'application/apply-patch+yaml',
      body: JSON.stringify(crd),
    });
  }
  const deadline = deps.clock.now() + timeoutMs;
  for (const crd of crds) {
    const name = crd.metadata!.name!;
    const versions = ((crd.spec as { versions?: { name: string; served: boolean }[] } | undefined)?.versions ?? [])
      .filter((v) => v.served)
      .map((v) => v.name);
    await waitForCrd(
      deps,
      { name, versions },
      {
        deadline,
        signal,
        timeoutError: () =>
          new StepError('apply-crds', `CRD ${name} is not Established after ${Math.round(timeoutMs / 1000)}s`),
      },
    );
  }
  return crds.map((c) => c.metadata!.name!);
}

/**
 * Deletes the mesh CRDs (their objects go with them: they are in the backup) and waits until they are gone,
 * touching any whose deletion stalls on the API server (kube/crd-deletion.ts).
 */
export async function deleteMeshCrds(
  deps: Deps,
  labelSelector: string,
  timeoutMs: number,
  progress: (line: string) => void,
  signal?: AbortSignal,
): Promise<string[]> {
  const crds = await listAll(deps.kube, collectionPath(core.crds), { labelSelector });
  const names = crds.map((c) => c.metadata!.name!);
  for (const name of names) {
    try {
      await deps.kube.request({ method: 'DELETE', path: objectPath(core.crds, name) });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) throw err;
    }
  }
  const nudge = crdDeletionNudger(deps, progress);
  await waitFor(
    {
      clock: deps.clock,
      timeoutMs,
      intervalMs: 250,
      signal,
      what: 'the mesh CRDs to be deleted',
      timeoutError: (left) =>
        new StepError(
          'delete-crds',
          `mesh CRDs still present after ${Math.round(timeoutMs / 1000)}s: ${left} (objects with finalizers?)`,
        ),
    },
    async () => {
      const left = await listAll<DeletingCrd>(deps.kube, collectionPath(core.crds), { labelSelector });
      await nudge(left);
      const named = (c: DeletingCrd) => {
        const why = stalledDeletion(c);
        return `${c.metadata?.name ?? ''}${why ? ` (the API server's cleanup failed: ${why})` : ''}`;
      };
      return left.length === 0 ? ready(undefined) : notYet(left.map(named).join(', '));
    },
  );
  return names;
}

/** After helm uninstall: delete the mesh CRDs (it leaves them); their objects are in the backup. */
export function deleteCrdsStep(n: number) {
  return step(
    n,
    'delete-crds',
    'Delete the mesh CRDs (helm uninstall leaves them; their objects are in the backup)',
    { destructive: true },
    [],
    { labelSelector: meshCrdSelector },
  );
}

/** A rollback: the mesh CRDs made exactly as the backup's crds.yaml has them. */
export function restoreCrdsStep(n: number, from: string) {
  return step(
    n,
    'restore-crds',
    `Put the mesh CRDs back as in ${from}/crds.yaml (old served and storage versions)`,
    { destructive: true },
    [],
    { from, labelSelector: meshCrdSelector },
  );
}

export const crdExecutors: Executors<'apply-crds' | 'delete-crds' | 'restore-crds'> = {
  async 'apply-crds'(ctx) {
    const cmd = ctx.step.commands[0]!;
    const res = await ctx.deps.exec.run(cmd);
    if (res.exitCode !== 0)
      throw new StepError(ctx.step.id, `${formatCommand(cmd)} exited ${res.exitCode}: ${res.stderr}`);
    const names = await applyCrdsFromYaml(ctx.deps, res.stdout, ctx.timeoutMs, ctx.signal);
    ctx.progress(`applied ${names.length} CRDs`);
    return { data: { crds: names } };
  },
  async 'delete-crds'(ctx) {
    const names = await deleteMeshCrds(
      ctx.deps,
      ctx.step.params.labelSelector,
      ctx.timeoutMs,
      ctx.progress,
      ctx.signal,
    );
    ctx.progress(`deleted ${names.length} CRDs`);
    return { data: { crds: names } };
  },
  async 'restore-crds'(ctx) {
    const backup = await verifyBackup(ctx.deps.fs, ctx.step.params.from, { keepObjects: false });
    const done = await putCrdsBack(ctx.deps, {
      crds: backup.crds,
      labelSelector: ctx.step.params.labelSelector,
      timeoutMs: ctx.timeoutMs,
      progress: ctx.progress,
      signal: ctx.signal,
    });
    ctx.progress(done.length ? done.join('; ') : 'the CRDs already were as backed up');
    return { data: { changed: done } };
  },
};
