/**
 * What the rollback planner needs, read from the run's directory and the cluster (I/O; the rules
 * are in plan.ts and compat.ts):
 * - the upgrade run: its journal (schema-checked by readJournal);
 * - the backup of the hop to go back to, verified (hashes, counts, every document) and checked
 *   against what the run journaled when it took it (object count, manifest hash);
 * - the cluster now: the installed version and release, the revisions Helm still records, how the
 *   mesh CRDs differ from the backup's, the objects changed, deleted and created since (and which
 *   of the created ones the old CRDs cannot hold), and MeshConfig changes made after a 2.0 hop.
 */
import path from 'node:path';
import type { Deps } from '../deps.ts';
import { ToolError } from '../errors.ts';
import { KubeApiError, type KubeObject } from '../kube/client.ts';
import { listAll } from '../kube/list.ts';
import { collectionPath, core, objectPath } from '../kube/paths.ts';
import { catalog, meshCrdSelector, pickVersion, resourceName } from '../mesh/catalog.ts';
import { sameAsBackup } from '../backup/apply.ts';
import { transformForRestore } from '../backup/transforms.ts';
import { notAsJournaled, verifyBackup, type VerifiedBackup } from '../backup/verify.ts';
import type { HelmReleaseInfo } from '../backup/install.ts';
import { markSecrets } from '../secret.ts';
import { compareVersions, normalizeVersion } from '../version-compare.ts';
import { installedNow } from '../mesh/live-state.ts';
import type { WorkloadRef } from '../workloads/owners.ts';
import {
  crdDifferences,
  meshConfigChanges,
  restorableRevisions,
  valueDifferences,
  whyNotHeld,
  type CrdLike,
} from '../engine/phases/compat.ts';
import { decodeReleaseSecret, type HelmRelease } from '../mesh/release.ts';
import { rollbackHopIndex } from './plan.ts';
import type { BackupFacts, LiveFacts, ObjectList, RollbackFacts, UpgradeRun } from './types.ts';

const sampleSize = 20;
const list = (items: string[]): ObjectList => ({ count: items.length, sample: items.slice(0, sampleSize) });

/** The hop's backup, verified; a problem is recorded (the plan turns it into a loss no --force passes). */
export async function backupFacts(
  deps: Pick<Deps, 'fs'>,
  run: UpgradeRun & { data: ReadonlyMap<string, Record<string, unknown>> },
  from: string,
  hop: number,
): Promise<{ facts: BackupFacts; verified: VerifiedBackup | undefined }> {
  const dir = path.join(from, `hop${hop}`);
  const journaled = (run.data.get(`hop${hop}.backup`) ?? {}) as {
    objects?: number;
    injected?: WorkloadRef[];
    manifestSha256?: string;
  };
  let verified: VerifiedBackup | undefined;
  let problem: string | undefined;
  try {
    verified = await verifyBackup(deps.fs, dir, { keepObjects: true });
  } catch (err) {
    if (!(err instanceof ToolError)) throw err;
    problem = err.message;
  }
  if (verified) {
    const count = verified.kinds.reduce((n, k) => n + k.objects.length, 0);
    const upHop = run.plan.hops.find((h) => h.index === hop);
    const changed = notAsJournaled(verified.manifestSha256, journaled.manifestSha256);
    if (changed) problem = changed;
    else if (journaled.objects !== undefined && journaled.objects !== count)
      problem = `it holds ${count} objects; the run's journal recorded ${journaled.objects} when it took the backup`;
    else if (verified.manifest.meshVersion && upHop && normalizeVersion(verified.manifest.meshVersion) !== upHop.from)
      problem = `it is a backup of NSM ${verified.manifest.meshVersion}, but hop ${hop} started from ${upHop.from}`;
  }
  const rel = (verified?.install as { helmRelease?: HelmReleaseInfo | null } | undefined)?.helmRelease ?? null;
  const values =
    rel?.values && typeof rel.values === 'object' ? markSecrets(rel.values as Record<string, unknown>) : undefined;
  return {
    verified: problem ? undefined : verified,
    facts: {
      hop,
      dir,
      problem,
      meshVersion: verified?.manifest.meshVersion ?? null,
      release: rel
        ? { name: rel.name, revision: rel.revision, chartVersion: rel.chart.version, appVersion: rel.chart.appVersion }
        : null,
      values,
      crds: verified?.crds ?? [],
      injected: journaled.injected ?? [],
    },
  };
}

/** The revisions of `release` Helm still records in `namespace` (its release Secrets) that hold the backed-up release. */
async function revisions(
  deps: Pick<Deps, 'kube'>,
  namespace: string,
  release: string | undefined,
  backup: BackupFacts,
): Promise<number[]> {
  if (!release) return [];
  const secrets = await listAll(deps.kube, collectionPath(core.secrets, namespace), {
    labelSelector: `owner=helm,name=${release}`,
  });
  const records: HelmRelease[] = [];
  for (const s of secrets) {
    try {
      records.push(decodeReleaseSecret(s));
    } catch {
      /* not a release record we can read: not one to roll back to */
    }
  }
  return restorableRevisions(records, backup);
}

/** The cluster now, against the backup. */
export async function liveFacts(
  deps: Deps,
  run: UpgradeRun,
  backup: BackupFacts,
  verified: VerifiedBackup | undefined,
  target: string,
): Promise<LiveFacts> {
  const ns = run.plan.namespace;
  const now = await installedNow(deps, ns, run.plan.release);
  const crds = await listAll<CrdLike>(deps.kube, collectionPath(core.crds), {
    labelSelector: meshCrdSelector,
  });
  const oldCrds = new Map(backup.crds.map((c) => [c.metadata?.name ?? '', c]));
  const changed: string[] = [];
  const deleted: string[] = [];
  const created: string[] = [];
  const incompatible: LiveFacts['incompatible'] = [];
  for (const row of catalog) {
    const liveCrd = crds.find((c) => c.metadata?.name === resourceName(row));
    const backedUp = verified?.kinds.find((k) => k.row.kind === row.kind)?.objects ?? [];
    const versions = { from: verified?.manifest.meshVersion ?? null, to: now?.version ?? null };
    const inBackup = new Map(
      backedUp.map((o) => [`${o.metadata?.namespace}/${o.metadata?.name}`, transformForRestore(o, versions).obj]),
    );
    // The catalog's version when served; else the CRD's own (a version the catalog, and so the old CRDs, may not know).
    const served = (liveCrd?.spec?.versions ?? []).filter((v) => v.served).map((v) => v.name);
    const version =
      pickVersion(row, served) ?? (liveCrd?.spec?.versions ?? []).find((v) => v.served && v.storage)?.name ?? served[0];
    let items: KubeObject[] = [];
    if (version && !liveCrd?.metadata?.deletionTimestamp) {
      try {
        items = await listAll(
          deps.kube,
          collectionPath({ group: row.group, version, plural: row.plural, namespaced: true }),
        );
      } catch (err) {
        if (!(err instanceof KubeApiError && err.status === 404)) throw err;
      }
    }
    const seen = new Set<string>();
    for (const o of items) {
      const key = `${o.metadata?.namespace}/${o.metadata?.name}`;
      const name = `${row.kind} ${key}`;
      seen.add(key);
      const b = inBackup.get(key);
      if (b) {
        if (!sameAsBackup(o, b)) changed.push(name);
        continue;
      }
      // 2.0's own MeshConfig is the chart's: its changes are judged below, not as an object created since.
      if (row.kind === 'MeshConfig' && o.metadata?.name === 'nginx-mesh-config' && o.metadata?.namespace === ns)
        continue;
      created.push(name);
      const why = whyNotHeld(o, oldCrds.get(resourceName(row)), version!);
      if (why) incompatible.push({ object: name, why });
    }
    // With the CRDs gone (a removal), nothing was listed: deletions cannot be told apart, so none are reported.
    if (liveCrd) for (const key of inBackup.keys()) if (!seen.has(key)) deleted.push(`${row.kind} ${key}`);
  }
  let meshConfig: LiveFacts['meshConfig'] = { carried: {}, noSetting: [] };
  if (compareVersions(target, '2.0.0') < 0 && crds.some((c) => c.metadata?.name === 'meshconfigs.nsm.nginx.com')) {
    const mc = await deps.kube
      .request<{ spec?: Record<string, unknown> }>({
        path: objectPath(
          { group: 'nsm.nginx.com', version: 'v1alpha2', plural: 'meshconfigs', namespaced: true },
          'nginx-mesh-config',
          ns,
        ),
      })
      .catch((err: unknown) => {
        if (err instanceof KubeApiError && err.status === 404) return undefined;
        throw err;
      });
    if (mc?.spec) meshConfig = meshConfigChanges(mc.spec, now?.values ?? {}, ns);
  }
  return {
    version: now?.version,
    release: now?.release,
    releaseStatus: now?.releaseStatus,
    valuesMatchBackup: Boolean(now && backup.values && valueDifferences(backup.values, now.values).length === 0),
    restorableRevisions: await revisions(deps, ns, now?.release ?? run.plan.release, backup),
    crdChanges: crdDifferences(crds, backup.crds),
    incompatible,
    changed: list(changed),
    deleted: list(deleted),
    created: list(created),
    meshConfig,
  };
}

const noLive: LiveFacts = {
  version: undefined,
  release: undefined,
  releaseStatus: undefined,
  valuesMatchBackup: false,
  restorableRevisions: [],
  crdChanges: [],
  incompatible: [],
  changed: list([]),
  deleted: list([]),
  created: list([]),
  meshConfig: { carried: {}, noSetting: [] },
};

/** Everything the planner needs; `run` is the upgrade's journal (readJournal). */
export async function gatherFacts(
  deps: Deps,
  run: UpgradeRun & { data: ReadonlyMap<string, Record<string, unknown>> },
  from: string,
  allHops: boolean,
): Promise<RollbackFacts> {
  const hop = rollbackHopIndex(run, allHops);
  if (hop === undefined) return { run, backup: undefined, live: noLive };
  const { facts, verified } = await backupFacts(deps, run, from, hop);
  const target = run.plan.hops.find((h) => h.index === hop)!.from;
  return { run, backup: facts, live: await liveFacts(deps, run, facts, verified, target) };
}
