import { createHash } from 'node:crypto';
import type { Kube } from '../../src/kube/client.ts';
import { KubeApiError } from '../../src/kube/client.ts';
import { collectionPath, core, objectPath } from '../../src/kube/paths.ts';

/**
 * One emulator at a time rewrites webhook configurations and plays hook Jobs: two instances on
 * one cluster would otherwise re-point the configurations at each other forever. They agree
 * through a coordination.k8s.io Lease, as controllers do; every instance keeps serving webhooks.
 */
export const leaseName = 'nsm-mesh-emulator';
export const leaseNamespace = 'kube-system';
export const leaseSeconds = 15;
const renewMs = 4000;

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  renewTime?: string;
  acquireTime?: string;
  leaseTransitions?: number;
}
interface Lease {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

/** A MicroTime (RFC 3339 with microseconds) as the Lease API stores it. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Whether `identity` may hold the lease now: it already does, nobody does, or the holder stopped renewing. */
export function mayHold(spec: LeaseSpec | undefined, identity: string, nowMs: number): boolean {
  if (!spec?.holderIdentity || spec.holderIdentity === identity) return true;
  const renewed = spec.renewTime ? Date.parse(spec.renewTime) : Number.NaN;
  if (!Number.isFinite(renewed)) return true;
  return renewed + (spec.leaseDurationSeconds ?? leaseSeconds) * 1000 < nowMs;
}

export interface Leadership {
  isLeader(): boolean;
  /** Gives the lease up (on shutdown) so another instance takes over at once. */
  release(): Promise<void>;
}

/** The lease a set of instances shares: scoped (test) instances manage disjoint objects, so each scope has its own. */
export function leaseNameFor(scope: Record<string, string>): string {
  const keys = Object.keys(scope).sort();
  if (!keys.length) return leaseName;
  const digest = createHash('sha256')
    .update(JSON.stringify(keys.map((k) => [k, scope[k]])))
    .digest('hex')
    .slice(0, 10);
  return `${leaseName}-${digest}`;
}

export function startLeaderElection(o: {
  kube: Kube;
  identity: string;
  lease: string;
  signal: AbortSignal;
  log: (l: string) => void;
  onGain: () => void;
}): Leadership {
  const path = objectPath(core.leases, o.lease, leaseNamespace);
  let leader: boolean | undefined;
  const set = (now: boolean, why: string) => {
    if (now === leader) return;
    leader = now;
    o.log(now ? `became the active emulator (lease ${leaseNamespace}/${o.lease})` : `standing by: ${why}`);
    if (now) o.onGain();
  };

  async function round(): Promise<void> {
    const now = Date.now();
    let lease: Lease | undefined;
    try {
      lease = await o.kube.request<Lease>({ path, noRetry: true });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) throw err;
    }
    if (lease && !mayHold(lease.spec, o.identity, now))
      return set(false, `another emulator (${lease.spec?.holderIdentity}) holds the lease`);
    const taking = lease?.spec?.holderIdentity !== o.identity;
    const spec: LeaseSpec = {
      ...lease?.spec,
      holderIdentity: o.identity,
      leaseDurationSeconds: leaseSeconds,
      renewTime: microTime(now),
      ...(taking
        ? { acquireTime: microTime(now), leaseTransitions: (lease?.spec?.leaseTransitions ?? 0) + (lease ? 1 : 0) }
        : {}),
    };
    try {
      if (lease) await o.kube.request({ method: 'PUT', path, body: { ...lease, spec }, noRetry: true });
      else
        await o.kube.request({
          method: 'POST',
          path: collectionPath(core.leases, leaseNamespace),
          body: { metadata: { name: o.lease, namespace: leaseNamespace }, spec },
          noRetry: true,
        });
      set(true, '');
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) return set(false, 'lost the race for the lease');
      throw err;
    }
  }

  async function loop(): Promise<void> {
    while (!o.signal.aborted) {
      try {
        await round();
      } catch (err) {
        o.log(`error: lease ${leaseNamespace}/${o.lease}: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, renewMs));
    }
  }
  void loop();

  return {
    isLeader: () => leader === true,
    async release() {
      if (!leader) return;
      leader = false;
      try {
        const lease = await o.kube.request<Lease>({ path, noRetry: true });
        if (lease.spec?.holderIdentity !== o.identity) return;
        // A scope's lease belongs to one test run: remove it. The cluster-wide one is handed over.
        if (o.lease !== leaseName) await o.kube.request({ method: 'DELETE', path, noRetry: true });
        else
          await o.kube.request({
            method: 'PUT',
            path,
            body: { ...lease, spec: { ...lease.spec, holderIdentity: '' } },
            noRetry: true,
          });
      } catch {
        /* the lease expires by itself */
      }
    },
  };
}
