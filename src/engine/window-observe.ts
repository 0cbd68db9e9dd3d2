/**
 * Takes the marks of the maintenance window (window.ts) while a run's steps run, each journaled as
 * soon as it is known (a run killed after removing the mesh still knows, on --resume, when the
 * removal started and when the CRDs went):
 *
 *   step-start, step-end      every step (tool clock)
 *   command                   the first command of a remove, upgrade or helm-rollback step (tool clock)
 *   crd-deleted               during a step that deletes CRDs on a hop that restores: each deleted CRD of
 *                             a backed-up kind, its deletionTimestamp, from a watch (cluster)
 *   control-plane-ready       after a step that deploys or upgrades, and after each later step of the hop
 *                             until seen: every control plane pod Ready, the newest Ready transition (cluster)
 *   restored                  after a restore: the newest creationTimestamp it gave (cluster)
 *   rolled-out                after a restart: the last Deployment's Progressing condition turning
 *                             NewReplicaSetAvailable (cluster), else the restart's end (tool clock)
 *
 * The observation never fails a step: what cannot be read is left out, and the figure says so.
 */
import type { Deps } from '../deps.ts';
import type { KubeList, KubeObject } from '../kube/client.ts';
import { listAll } from '../kube/list.ts';
import { collectionPath, core } from '../kube/paths.ts';
import { catalog, meshCrdSelector, resourceName } from '../mesh/catalog.ts';
import { mapLimit } from '../concurrency.ts';
import { readRestartRecord } from '../workloads/restart-record.ts';
import type { Runner } from '../exec/runner.ts';
import { waitFor, ready, notYet, WaitTimeoutError } from '../wait.ts';
import { hopStep, outputOf, type StepContext, type StepOutcome } from './step-context.ts';
import type { Hop, Step, StepKind, StepOutputs } from './types.ts';
import type { MarkKind, WindowMark } from './window.ts';

const commandKinds: ReadonlySet<StepKind> = new Set(['remove', 'upgrade', 'helm-rollback']);
const crdDeleting: ReadonlySet<StepKind> = new Set(['remove', 'delete-crds', 'restore-crds']);
const restoring: ReadonlySet<StepKind> = new Set(['restore', 'restore-resources']);
/** After these the new control plane is up, or on its way. */
const deploying: ReadonlySet<StepKind> = new Set(['deploy', 'upgrade', 'helm-rollback']);

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
}
type WithStatus = KubeObject & {
  status?: { phase?: string; conditions?: Condition[] };
  metadata?: KubeObject['metadata'] & { deletionTimestamp?: string; ownerReferences?: { kind?: string }[] };
};

const newest = (times: readonly string[]) =>
  times.reduce<string | undefined>((a, t) => (!a || Date.parse(t) > Date.parse(a) ? t : a), undefined);

/** Every control plane pod Ready: the newest Ready transition; undefined while one is not (or there is none). */
export async function controlPlaneReadyAt(deps: Pick<Deps, 'kube'>, namespace: string): Promise<string | undefined> {
  const pods = (
    await listAll<WithStatus>(deps.kube, collectionPath(core.pods, namespace), { labelSelector: meshCrdSelector })
  ).filter(
    (p) =>
      !p.metadata?.deletionTimestamp &&
      !['Succeeded', 'Failed'].includes(p.status?.phase ?? '') &&
      !p.metadata?.ownerReferences?.some((o) => o.kind === 'Job'),
  );
  const ready = pods.map(
    (p) => p.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True')?.lastTransitionTime,
  );
  if (pods.length === 0 || ready.some((t) => !t)) return undefined;
  return newest(ready as string[]);
}

/** The kinds the hop backed up objects of (its backup or snapshot step's data), as CRD names; all catalog CRDs when unknown. */
function backedUpCrds(ctx: StepContext): Set<string> {
  const rec = outputOf(ctx, hopStep(ctx, 'backup'))?.kinds ?? outputOf(ctx, hopStep(ctx, 'snapshot'))?.kinds;
  const rows = rec ? catalog.filter((k) => (rec[k.kind] ?? 0) > 0) : catalog;
  return new Set(rows.map(resourceName));
}

/** Watches the mesh CRDs from now; `stop()` waits (at most 2 s) for the deletions a final list shows, and returns the names it never saw deleted. */
export async function watchCrdDeletions(
  deps: Deps,
  names: ReadonlySet<string>,
  onDeleted: (name: string, time: string) => Promise<void>,
): Promise<{ stop(): Promise<string[]> }> {
  const path = collectionPath(core.crds);
  const seen = new Set<string>();
  const pending: Promise<void>[] = [];
  const note = (o: WithStatus) => {
    const name = o.metadata?.name;
    const ts = o.metadata?.deletionTimestamp;
    if (name && ts && names.has(name) && !seen.has(name)) {
      seen.add(name);
      pending.push(onDeleted(name, ts).catch(() => undefined));
    }
  };
  const list = async () => deps.kube.request<KubeList<WithStatus>>({ path, query: { labelSelector: meshCrdSelector } });
  const before = await list();
  before.items.forEach(note);
  const present = new Set(before.items.map((c) => c.metadata?.name ?? '').filter((n) => names.has(n)));
  const ac = new AbortController();
  const loop = (async () => {
    let rv = before.metadata?.resourceVersion;
    while (!ac.signal.aborted) {
      try {
        await deps.kube.watch<WithStatus>(
          path,
          { labelSelector: meshCrdSelector, resourceVersion: rv, timeoutSeconds: 240 },
          (e) => {
            rv = (e.object.metadata as { resourceVersion?: string } | undefined)?.resourceVersion ?? rv;
            if (e.type === 'MODIFIED' || e.type === 'DELETED') note(e.object);
          },
          ac.signal,
        );
      } catch {
        if (ac.signal.aborted) break;
        const again = await list().catch(() => undefined); // 410 Gone or a dropped stream: from a fresh list
        again?.items.forEach(note);
        rv = again?.metadata?.resourceVersion;
        await deps.clock.sleep(200, ac.signal).catch(() => undefined);
      }
    }
  })();
  return {
    async stop() {
      const after = await list().catch(() => undefined);
      after?.items.forEach(note);
      const left = new Set(after?.items.map((c) => c.metadata?.name ?? '') ?? []);
      const gone = [...present].filter((n) => !left.has(n));
      // The watch may still be delivering them: up to 2 s, then what it never delivered is said so.
      await waitFor(
        { clock: deps.clock, timeoutMs: 2_000, intervalMs: 100, what: 'the watch to deliver the CRD deletions' },
        async () =>
          gone.every((n) => seen.has(n)) ? ready(undefined) : notYet(gone.filter((n) => !seen.has(n)).join(', ')),
      ).catch((err: unknown) => {
        if (!(err instanceof WaitTimeoutError)) throw err;
      });
      ac.abort();
      await loop;
      await Promise.all(pending);
      return gone.filter((n) => !seen.has(n));
    },
  };
}

/** The last restarted Deployment's rollout completion (cluster), when the run's restart record names only Deployments that all say so. */
async function rolloutsDoneAt(ctx: StepContext): Promise<string | undefined> {
  if (ctx.hop.steps.some((s) => s.kind === 'restart-unmeshed')) return undefined; // re-injected workloads are not in the record
  const rec = await readRestartRecord(ctx.deps, ctx.plan.namespace);
  if (!rec || rec.runId !== ctx.runId) return undefined;
  const rolled = Object.entries(rec.workloads)
    .filter(([, w]) => w.state === 'rolled')
    .map(([k]) => k.split('/') as [string, string, string]);
  if (rolled.length === 0 || rolled.some(([, kind]) => kind !== 'Deployment')) return undefined;
  const byNs = new Map<string, Set<string>>();
  for (const [ns, , name] of rolled) byNs.set(ns, (byNs.get(ns) ?? new Set()).add(name));
  const times = (
    await mapLimit([...byNs], 8, async ([ns, wanted]) =>
      (await listAll<WithStatus>(ctx.deps.kube, collectionPath(core.deployments, ns)))
        .filter((d) => wanted.has(d.metadata?.name ?? ''))
        .map(
          (d) =>
            d.status?.conditions?.find((c) => c.type === 'Progressing' && c.reason === 'NewReplicaSetAvailable')
              ?.lastUpdateTime,
        ),
    )
  ).flat();
  if (times.length !== rolled.length || times.some((t) => !t)) return undefined;
  return newest(times as string[]);
}

/** What step `step` just reported, when it is of kind `kind` (the executor table runs each kind's own executor). */
function dataOf<K extends StepKind>(step: Step, kind: K, out: StepOutcome): StepOutputs[K] | undefined {
  return step.kind === kind ? (out.data as StepOutputs[K] | undefined) : undefined;
}

export interface WindowObserver {
  /** Every mark so far: the earlier runs' (resume) and this run's. */
  readonly marks: readonly WindowMark[];
  observe(ctx: StepContext, run: (ctx: StepContext) => Promise<StepOutcome>): Promise<StepOutcome>;
}

/** `journal` appends one mark to the run's journal (walk.ts); `earlier` are the marks a resumed run's journal holds. */
export function windowObserver(
  journal: (m: WindowMark) => Promise<void>,
  earlier: readonly WindowMark[] = [],
): WindowObserver {
  const marks: WindowMark[] = [...earlier];
  const add = async (m: WindowMark) => {
    marks.push(m);
    await journal(m);
  };
  const inHop = (hop: Hop, mark: MarkKind) =>
    marks.some((m) => m.mark === mark && hop.steps.some((s) => s.id === m.step));

  async function after(
    ctx: StepContext,
    out: StepOutcome,
    mark: (kind: MarkKind, time: string, source: 'cluster' | 'tool', what?: string) => Promise<void>,
  ): Promise<void> {
    const { step, hop, deps } = ctx;
    const at = hop.steps.findIndex((s) => s.id === step.id);
    const deployed = hop.steps.slice(0, at + 1).some((s) => deploying.has(s.kind));
    if (deployed && !inHop(hop, 'control-plane-ready')) {
      const t = await controlPlaneReadyAt(deps, ctx.plan.namespace);
      if (t) await mark('control-plane-ready', t, 'cluster');
    }
    const created = (dataOf(step, 'restore', out) ?? dataOf(step, 'restore-resources', out))?.lastCreatedAt;
    if (created) await mark('restored', created, 'cluster');
    const restarted = dataOf(step, 'restart', out);
    if (restarted && !out.skipped && (restarted.restarted ?? 0) + (restarted.restartedIntoMesh ?? 0) > 0) {
      const t = await rolloutsDoneAt(ctx);
      if (t)
        await mark(
          'rolled-out',
          t,
          'cluster',
          'the last Deployment rollout complete (Progressing: NewReplicaSetAvailable)',
        );
      else
        await mark(
          'rolled-out',
          new Date(deps.clock.now()).toISOString(),
          'tool',
          'the restart saw its last rollout complete',
        );
    }
  }

  return {
    get marks() {
      return marks;
    },
    async observe(ctx, run) {
      const { deps, step } = ctx;
      const now = () => new Date(deps.clock.now()).toISOString();
      const mark = (kind: MarkKind, time: string, source: 'cluster' | 'tool', what?: string) =>
        add({ step: step.id, mark: kind, time, source, ...(what ? { what } : {}) }).catch((err: unknown) =>
          deps.log.debug(`window: cannot journal the ${kind} mark: ${(err as Error).message}`),
        );
      const quietly = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
        try {
          return await fn();
        } catch (err) {
          deps.log.debug(`window: ${what}: ${(err as Error).message}`);
          return undefined;
        }
      };
      await mark('step-start', now(), 'tool');
      let c = ctx;
      if (commandKinds.has(step.kind) && !inHop(ctx.hop, 'command')) {
        let fired = false;
        const exec: Runner = {
          dryRun: deps.exec.dryRun,
          signalAll: (s) => deps.exec.signalAll(s),
          stopAll: (g) => deps.exec.stopAll(g),
          run: async (cmd, hooks) => {
            if (!fired) {
              fired = true;
              await mark('command', now(), 'tool');
            }
            return deps.exec.run(cmd, hooks);
          },
        };
        c = { ...ctx, deps: { ...deps, exec } };
      }
      const watcher =
        crdDeleting.has(step.kind) && ctx.hop.steps.some((s) => restoring.has(s.kind))
          ? await quietly('watching the CRDs', () =>
              watchCrdDeletions(deps, backedUpCrds(ctx), (name, time) => mark('crd-deleted', time, 'cluster', name)),
            )
          : undefined;
      let out: StepOutcome;
      try {
        out = await run(c);
      } finally {
        const unseen = await quietly('the CRDs after the step', async () => (watcher ? watcher.stop() : []));
        for (const name of unseen ?? []) await mark('crd-deleted', now(), 'tool', name); // gone, its deletion not seen: the step's end
      }
      await quietly('after the step', () => after(ctx, out, mark));
      await mark('step-end', now(), 'tool');
      return out;
    },
  };
}
