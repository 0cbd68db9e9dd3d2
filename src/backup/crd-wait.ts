/**
 * The one wait for a CRD to be Established and to serve its versions (applied CRDs, CRDs put back
 * by a rollback, a restore's kinds), by watching it: list it by name, and until it is ready, watch
 * from the list's resourceVersion until an event shows it ready (or 5 s pass), then list again.
 */
import type { Deps } from '../deps.ts';
import type { KubeList, KubeObject } from '../kube/client.ts';
import { collectionPath, core } from '../kube/paths.ts';
import { watchUntil } from '../kube/watch-until.ts';
import { notYet, ready, waitFor, WaitTimeoutError } from '../wait.ts';

interface CrdLike extends KubeObject {
  spec?: { versions?: { name: string; served: boolean }[] };
  status?: { conditions?: { type: string; status: string }[] };
}

/** Is the CRD Established, serving `version`, and not being deleted? Pure. */
export function crdReady(crd: CrdLike | undefined, version: string): boolean {
  if (!crd || crd.metadata?.deletionTimestamp) return false; // a terminating CRD stays Established but refuses creates
  const established = crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
  const served = crd.spec?.versions?.some((v) => v.name === version && v.served) ?? false;
  return established && served;
}

/** Pure: why the CRD is not ready yet (serving each of `versions`; none: Established is enough), or undefined when it is. */
export function crdNotReady(crd: CrdLike | undefined, versions: readonly string[]): string | undefined {
  if (!crd) return 'not found';
  if (crd.metadata?.deletionTimestamp) return 'being deleted';
  if (!crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return 'not Established';
  const missing = versions.filter((v) => !crdReady(crd, v));
  return missing.length ? `not serving ${missing.join(', ')}` : undefined;
}

export interface CrdWait {
  /** A time on deps.clock (the waits of one step or one restore share it). */
  deadline: number;
  signal?: AbortSignal | undefined;
  progress?: ((line: string) => void) | undefined;
  /** The caller's own error at the deadline, given why the CRD is not ready (default: WaitTimeoutError). */
  timeoutError?: ((why: string) => Error) | undefined;
}

/** How long one watch lasts before the CRD is listed again (and progress told). */
const relistMs = 5_000;

/** Waits until CRD `name` is ready; throws WaitTimeoutError (its state: why not) at the deadline, or the signal's reason. */
export async function waitForCrd(
  deps: Pick<Deps, 'kube' | 'clock' | 'log'>,
  crd: { name: string; versions: readonly string[] },
  opts: CrdWait,
): Promise<void> {
  const path = collectionPath(core.crds);
  const fieldSelector = `metadata.name=${crd.name}`;
  let resourceVersion: string | undefined;
  await waitFor(
    {
      clock: deps.clock,
      deadline: opts.deadline,
      intervalMs: relistMs,
      signal: opts.signal,
      what: `CRD ${crd.name} to be Established${crd.versions.length ? ` serving ${crd.versions.join(', ')}` : ''}`,
      progress: (why) => opts.progress?.(`waiting for CRD ${crd.name} (${why})`),
      timeoutError: opts.timeoutError,
      pause: (ms, signal) =>
        watchUntil<CrdLike>(
          deps,
          {
            path,
            query: { fieldSelector, resourceVersion },
            until: (e) => (e.type === 'ADDED' || e.type === 'MODIFIED') && !crdNotReady(e.object, crd.versions),
            log: (m) => deps.log.debug(m),
          },
          ms,
          signal,
        ),
    },
    async () => {
      let list: KubeList<CrdLike>;
      try {
        list = await deps.kube.request<KubeList<CrdLike>>({ path, query: { fieldSelector } });
      } catch (err) {
        // Not the wait's end: the API server may be busy (a CRD just applied); the next check asks again.
        deps.log.debug(`listing CRD ${crd.name} failed: ${(err as Error).message}`);
        resourceVersion = undefined;
        return notYet(`cannot be read: ${(err as Error).message}`);
      }
      resourceVersion = list.metadata?.resourceVersion;
      const why = crdNotReady(list.items[0], crd.versions);
      return why ? notYet(why) : ready(undefined);
    },
  );
}

/** A restore's form: true when ready, false when the deadline (clock ms) passes or the signal aborts first. */
export async function waitForCrdEstablished(
  deps: Deps,
  crdName: string,
  version: string,
  deadline: number,
  signal?: AbortSignal,
): Promise<boolean> {
  if (deps.clock.now() >= deadline || signal?.aborted) return false;
  try {
    await waitForCrd(deps, { name: crdName, versions: [version] }, { deadline, signal });
    return true;
  } catch (err) {
    if (err instanceof WaitTimeoutError || signal?.aborted) return false;
    throw err;
  }
}
