/**
 * One run at a time per mesh (src/engine/lease.ts) against the real API server: a second run is
 * refused with exit 3 naming the holder; a stale lease from a killed run is refused without
 * --resume and taken over with it; a lease whose holder was a process on this host that is gone
 * is taken over at once by the run that resumes it. Issue 23: only the resumed run's own lease is
 * taken over (another's needs --break-lock); freshness is judged on the API server's clock; a
 * renewal failing past the grace period loses the lease; fencing asks the server before a change,
 * and the steps' client sends no write once the lease is lost.
 */
import os from 'node:os';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import {
  acquireLease,
  backupDirAnnotation,
  leaseDurationSeconds,
  leaseName,
  leaseNamespace,
  operationAnnotation,
} from '../../src/engine/lease.ts';
import { PreflightError } from '../../src/errors.ts';
import { KubeApiError } from '../../src/kube/client.ts';
import { collectionPath, core, objectPath } from '../../src/kube/paths.ts';
import { testDeps, testKube, uniqueName } from '../support/cluster.ts';
import { LeaseLostError } from '../../src/engine/lease.ts';
import { fenceWrites } from '../../src/engine/fenced-kube.ts';
import { createKube } from '../../src/kube/client.ts';
import { loadKubeConfig } from '../../src/kube/kubeconfig.ts';
import { realClock } from '../../src/clock.ts';
import { startFaultProxy } from '../support/fault-proxy.ts';

const meshes: string[] = [];
function newMesh(): string {
  const ns = uniqueName('lease');
  meshes.push(ns);
  return ns;
}

const micro = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

interface Lease {
  spec: { holderIdentity?: string; acquireTime?: string; renewTime?: string };
}

async function getLease(mesh: string): Promise<Lease | undefined> {
  try {
    return await (await testKube()).request<Lease>({ path: objectPath(core.leases, leaseName(mesh), leaseNamespace) });
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) return undefined;
    throw err;
  }
}

/** Plants a Lease as an earlier run would have left it. */
async function plantLease(
  mesh: string,
  holder: string,
  renewedMsAgo: number,
  annotations: Record<string, string> = {},
): Promise<void> {
  const t = Date.now() - renewedMsAgo;
  await (
    await testKube()
  ).request({
    method: 'POST',
    path: collectionPath(core.leases, leaseNamespace),
    body: {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: leaseName(mesh), annotations },
      spec: { holderIdentity: holder, leaseDurationSeconds, acquireTime: micro(t), renewTime: micro(t) },
    },
  });
}

/** The pid of a process that has exited (and so runs no more on this host). */
async function deadPid(): Promise<number> {
  const child = execa('true');
  const pid = child.pid!;
  await child;
  expect(() => process.kill(pid, 0)).toThrow();
  return pid;
}

async function refusal(p: Promise<unknown>): Promise<PreflightError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PreflightError);
  return err as PreflightError;
}

afterAll(async () => {
  const kube = await testKube();
  for (const m of meshes)
    await kube
      .request({ method: 'DELETE', path: objectPath(core.leases, leaseName(m), leaseNamespace) })
      .catch(() => undefined);
});

describe('acquireLease on the real API server', () => {
  it('a second run for the same mesh is refused with exit 3 naming the holder; it can run after release', async () => {
    const mesh = newMesh();
    const deps = await testDeps();
    const first = await acquireLease(deps, { meshNamespace: mesh, runId: 'run-one' });
    const holder = `${os.hostname()}/pid-${process.pid}/run-one`;
    expect((await getLease(mesh))?.spec.holderIdentity).toBe(holder);

    const err = await refusal(acquireLease(deps, { meshNamespace: mesh, runId: 'run-two' }));
    expect(err.exitCode).toBe(3);
    expect(err.failures[0]?.message).toContain(holder);
    expect(err.failures[0]?.message).toContain(`${leaseNamespace}/${leaseName(mesh)}`);
    expect(err.failures[0]?.fix).toMatch(/--resume DIR/);
    // The live holder keeps its lease.
    expect((await getLease(mesh))?.spec.holderIdentity).toBe(holder);

    await first.release();
    expect(await getLease(mesh)).toBeUndefined();
    const second = await acquireLease(deps, { meshNamespace: mesh, runId: 'run-two' });
    expect((await getLease(mesh))?.spec.holderIdentity).toMatch(/\/run-two$/);
    await second.release();
  });

  it('--resume of a run whose holder is still alive and renewing is refused too', async () => {
    const mesh = newMesh();
    const deps = await testDeps();
    const live = await acquireLease(deps, { meshNamespace: mesh, runId: 'run-live' });
    const err = await refusal(acquireLease(deps, { meshNamespace: mesh, runId: 'run-again', resumeRunId: 'run-live' }));
    expect(err.exitCode).toBe(3);
    expect(err.failures[0]?.message).toContain('/run-live');
    await live.release();
  });

  it('a stale lease (renewed 10 minutes ago, another host) is refused without resume and taken over with resumeRunId', async () => {
    const mesh = newMesh();
    const deps = await testDeps();
    await plantLease(mesh, 'other-host/pid-4242/run-killed', 10 * 60_000);

    const err = await refusal(acquireLease(deps, { meshNamespace: mesh, runId: 'run-new' }));
    expect(err.exitCode).toBe(3);
    expect(err.failures[0]?.message).toMatch(/stale lease .*other-host\/pid-4242\/run-killed/);
    expect(err.failures[0]?.fix).toMatch(/--resume DIR/);
    expect((await getLease(mesh))?.spec.holderIdentity).toBe('other-host/pid-4242/run-killed');

    const held = await acquireLease(deps, { meshNamespace: mesh, runId: 'run-resumed', resumeRunId: 'run-killed' });
    const now = await getLease(mesh);
    expect(now?.spec.holderIdentity).toBe(`${os.hostname()}/pid-${process.pid}/run-resumed`);
    expect(Date.parse(now!.spec.renewTime!)).toBeGreaterThan(Date.now() - 60_000);
    await held.release();
  });

  it('a fresh lease held by a dead process on this host is taken over at once by resumeRunId = its run id', async () => {
    const mesh = newMesh();
    const deps = await testDeps();
    const pid = await deadPid();
    const holder = `${os.hostname()}/pid-${pid}/run-sigkilled`;
    await plantLease(mesh, holder, 1_000); // renewed a second ago: fresh by time

    // Without --resume, or resuming another run, the fresh lease still stands.
    expect((await refusal(acquireLease(deps, { meshNamespace: mesh, runId: 'run-x' }))).failures[0]?.message).toContain(
      holder,
    );
    expect(
      (await refusal(acquireLease(deps, { meshNamespace: mesh, runId: 'run-x', resumeRunId: 'run-other' }))).failures[0]
        ?.message,
    ).toContain(holder);

    const started = Date.now();
    const held = await acquireLease(deps, {
      meshNamespace: mesh,
      runId: 'run-after-kill',
      resumeRunId: 'run-sigkilled',
    });
    expect(Date.now() - started).toBeLessThan(5_000); // at once, not after the 60 s lease duration
    expect((await getLease(mesh))?.spec.holderIdentity).toBe(`${os.hostname()}/pid-${process.pid}/run-after-kill`);
    await held.release();
  });

  it('a fresh lease held by a dead pid on another host is not taken over (the pid says nothing there)', async () => {
    const mesh = newMesh();
    const deps = await testDeps();
    const pid = await deadPid();
    await plantLease(mesh, `not-${os.hostname()}/pid-${pid}/run-elsewhere`, 1_000);
    const err = await refusal(
      acquireLease(deps, { meshNamespace: mesh, runId: 'run-y', resumeRunId: 'run-elsewhere' }),
    );
    expect(err.failures[0]?.message).toContain(`not-${os.hostname()}/pid-${pid}/run-elsewhere`);
  });

  it('a retried create that finds its own lease (the first answer was lost) goes on holding it', async () => {
    const mesh = newMesh();
    const deps = await testDeps();
    await plantLease(mesh, `${os.hostname()}/pid-${process.pid}/run-retried`, 0);
    const held = await acquireLease(deps, { meshNamespace: mesh, runId: 'run-retried' });
    expect((await getLease(mesh))?.spec.holderIdentity).toBe(`${os.hostname()}/pid-${process.pid}/run-retried`);
    await held.release();
    expect(await getLease(mesh)).toBeUndefined();
  });

  it('records the operation and backup directory, and release never deletes a lease another run took over', async () => {
    const mesh = newMesh();
    const deps = await testDeps();
    const held = await acquireLease(deps, {
      meshNamespace: mesh,
      runId: 'run-a',
      backupDir: '/backups/run-a',
      operation: 'restore',
    });
    const kube = await testKube();
    const live = await kube.request<
      Lease & { metadata: { resourceVersion: string; annotations?: Record<string, string> } }
    >({ path: objectPath(core.leases, leaseName(mesh), leaseNamespace) });
    expect(live.metadata.annotations).toMatchObject({
      [backupDirAnnotation]: '/backups/run-a',
      [operationAnnotation]: 'restore',
    });
    // Another run takes it over (as --resume of a stale lease does).
    await kube.request({
      method: 'PUT',
      path: objectPath(core.leases, leaseName(mesh), leaseNamespace),
      body: { ...live, spec: { ...live.spec, holderIdentity: 'other-host/pid-1/run-b' } },
    });
    await held.release();
    expect((await getLease(mesh))?.spec.holderIdentity).toBe('other-host/pid-1/run-b');
  });

  it('a stale lease whose backup directory is not on this machine says the cluster may be half-upgraded; --break-lock takes it over', async () => {
    const mesh = newMesh();
    const deps = await testDeps();
    const gone = `/nonexistent/nsm-backup-${mesh}`;
    await plantLease(mesh, 'other-host/pid-4242/run-lost', 10 * 60_000, {
      [backupDirAnnotation]: gone,
      [operationAnnotation]: 'upgrade',
    });
    const err = await refusal(acquireLease(deps, { meshNamespace: mesh, runId: 'run-new' }));
    expect(err.exitCode).toBe(3);
    expect(err.failures[0]?.message).toContain(gone);
    expect(err.failures[0]?.fix).toMatch(/half-upgraded/);
    expect(err.failures[0]?.fix).toContain('--break-lock');
    expect((await getLease(mesh))?.spec.holderIdentity).toBe('other-host/pid-4242/run-lost');

    const held = await acquireLease(deps, { meshNamespace: mesh, runId: 'run-broke', breakLock: true });
    expect((await getLease(mesh))?.spec.holderIdentity).toBe(`${os.hostname()}/pid-${process.pid}/run-broke`);
    expect(deps.log.lines.join('\n')).toMatch(/--break-lock: taking over the lease of an interrupted run .*run-lost/);
    await held.release();
  });

  it('--break-lock never takes a fresh lease from a live run', async () => {
    const mesh = newMesh();
    const deps = await testDeps();
    const live = await acquireLease(deps, { meshNamespace: mesh, runId: 'run-live2' });
    const err = await refusal(acquireLease(deps, { meshNamespace: mesh, runId: 'run-breaker', breakLock: true }));
    expect(err.failures[0]?.message).toContain('/run-live2');
    await live.release();
  });

  it("a resume takes over only its own run's stale lease: another run's needs --break-lock", async () => {
    const mesh = newMesh();
    const deps = await testDeps();
    await plantLease(mesh, 'other-host/pid-4242/run-other', 10 * 60_000, {
      [backupDirAnnotation]: '/backups/run-other',
      [operationAnnotation]: 'upgrade',
    });
    const err = await refusal(acquireLease(deps, { meshNamespace: mesh, runId: 'run-new', resumeRunId: 'run-mine' }));
    expect(err.exitCode).toBe(3);
    expect(err.failures[0]?.message).toMatch(/stale lease .* of another run .*run-other.*not of run run-mine/);
    expect(err.failures[0]?.fix).toContain('--break-lock');
    expect((await getLease(mesh))?.spec.holderIdentity).toBe('other-host/pid-4242/run-other');
    const held = await acquireLease(deps, {
      meshNamespace: mesh,
      runId: 'run-new',
      resumeRunId: 'run-mine',
      breakLock: true,
    });
    expect((await getLease(mesh))?.spec.holderIdentity).toBe(`${os.hostname()}/pid-${process.pid}/run-new`);
    await held.release();
  });

  it("judges freshness and writes its times on the API server's clock, not this machine's (10 minutes ahead here)", async () => {
    const deps = await testDeps();
    const ahead = { ...deps, clock: { ...realClock, now: () => Date.now() + 10 * 60_000 } };
    // Renewed a second ago by the server's clock: fresh, although this machine's clock calls it 10 minutes old.
    const mesh = newMesh();
    await plantLease(mesh, 'other-host/pid-4242/run-killed', 1_000);
    const err = await refusal(
      acquireLease(ahead, { meshNamespace: mesh, runId: 'run-skewed', resumeRunId: 'run-killed' }),
    );
    expect(err.failures[0]?.message).toContain('another run holds lease');
    expect((await getLease(mesh))?.spec.holderIdentity).toBe('other-host/pid-4242/run-killed');
    // Its own lease carries the server's time, so other machines judge it right.
    const own = newMesh();
    const held = await acquireLease(ahead, { meshNamespace: own, runId: 'run-skewed' });
    const l = await getLease(own);
    expect(Math.abs(Date.parse(l!.spec.renewTime!) - Date.now())).toBeLessThan(5_000);
    expect(Math.abs(Date.parse(l!.spec.acquireTime!) - Date.now())).toBeLessThan(5_000);
    await held.release();
  });

  it('a renewal that keeps failing (503 during an API outage) loses the lease within the grace period, and says so', async () => {
    const mesh = newMesh();
    const proxy = await startFaultProxy({
      rate: 1,
      seed: 23,
      kinds: ['unavailable'],
      maxSeconds: 120,
      match: (method, url) => method === 'PUT' && url.includes('/leases/'),
    });
    try {
      const deps = {
        ...(await testDeps()),
        kube: await createKube(loadKubeConfig({ kubeconfig: proxy.kubeconfigPath })),
      };
      const started = Date.now();
      const held = await acquireLease(deps, { meshNamespace: mesh, runId: 'run-outage', durationSeconds: 3 });
      const reason = await new Promise<unknown>((resolve) => {
        const timer = setTimeout(() => resolve('not lost within 20 s'), 20_000);
        held.lost.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            resolve(held.lost.reason);
          },
          { once: true },
        );
      });
      expect(reason).toBeInstanceOf(LeaseLostError);
      expect((reason as Error).message).toMatch(
        /not renewed for \d+s \(last error: .*\); stopping before it can expire/,
      );
      expect(Date.now() - started).toBeLessThan(3_000 + 5_000); // before the lease (3 s) could long have expired
      await expect(held.check()).rejects.toBeInstanceOf(LeaseLostError);
      await held.release(); // waits for the renewal under way: its failure is a warning, not a debug line
      expect(deps.log.lines.join('\n')).toMatch(/warning: lease .*: renewal failed \(.*503/);
    } finally {
      await proxy.close();
    }
  });

  it("fencing: check() asks the server; a lease another run took over fails it, and the steps' client then sends no write", async () => {
    const mesh = newMesh();
    const deps = await testDeps();
    const held = await acquireLease(deps, { meshNamespace: mesh, runId: 'run-fenced' });
    await held.check();
    const kube = await testKube();
    const fenced = fenceWrites(kube, () => held.lost);
    const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: 'b' } });
    await fenced.request({
      method: 'POST',
      path: collectionPath(core.configmaps, 'default'),
      body: cm(`${mesh}-before`),
    });
    const live = await kube.request<Lease & { metadata: Record<string, unknown> }>({
      path: objectPath(core.leases, leaseName(mesh), leaseNamespace),
    });
    await kube.request({
      method: 'PUT',
      path: objectPath(core.leases, leaseName(mesh), leaseNamespace),
      body: { ...live, spec: { ...live.spec, holderIdentity: 'other-host/pid-1/run-other' } },
    });
    await expect(held.check()).rejects.toThrow(/taken over by other-host\/pid-1\/run-other/);
    expect(held.lost.aborted).toBe(true);
    await expect(
      fenced.request({ method: 'POST', path: collectionPath(core.configmaps, 'default'), body: cm(`${mesh}-after`) }),
    ).rejects.toBeInstanceOf(LeaseLostError);
    await expect(kube.request({ path: objectPath(core.configmaps, `${mesh}-after`, 'default') })).rejects.toMatchObject(
      { status: 404 },
    );
    expect(
      (
        await fenced.request<{ metadata: { name: string } }>({
          path: objectPath(core.configmaps, `${mesh}-before`, 'default'),
        })
      ).metadata.name,
    ).toBe(`${mesh}-before`);
    await held.release();
    expect((await getLease(mesh))?.spec.holderIdentity).toBe('other-host/pid-1/run-other');
    await kube.request({ method: 'DELETE', path: objectPath(core.configmaps, `${mesh}-before`, 'default') });
  });
});
