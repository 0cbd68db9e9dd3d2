/**
 * Backing up the mesh's custom resources.
 *
 *   backupMesh(deps, { dir, namespace?, concurrency, meshNamespace?, release?, meshVersion? }): Promise<BackupSummary>
 *
 * Discovers what the server serves (a failing group, e.g. an aggregated API whose pod is down,
 * is recorded, not fatal), lists every catalog kind concurrently page by page, cleans each
 * object (sanitize.ts), and writes the directory of ARCHITECTURE.md, "The backup directory" (write.ts) with crds.yaml,
 * install.yaml and manifest.json last; then re-reads and verifies it (verify.ts). A kind whose
 * CRD is absent is recorded in manifest.absent.
 */
import { ExitCode, ToolError } from '../errors.ts';
import type { Deps } from '../deps.ts';
import type { KubeObject } from '../kube/client.ts';
import { KubeApiError } from '../kube/client.ts';
import { discover } from '../kube/discovery.ts';
import { listAll, listPages } from '../kube/list.ts';
import { collectionPath, core, objectPath } from '../kube/paths.ts';
import { catalog, meshCrdSelector, pickVersion, resourceName, type CatalogKind } from '../mesh/catalog.ts';
import { toolVersion } from '../version.ts';
import { captureInstall } from './install.ts';
import { manifestFormatVersion, resourceFilePath, sha256, type Manifest, type ManifestFile } from './manifest.ts';
import { mapLimit } from '../concurrency.ts';
import { sanitizeForCreate } from './sanitize.ts';
import { verifyBackup } from './verify.ts';
import { openAtomic, prepareBackupDir, writeFileAtomic } from './write.ts';
import { dumpDocuments } from './yaml.ts';

export interface BackupOptions {
  dir: string;
  /** Only this namespace (-n); all namespaces when absent. */
  namespace?: string | undefined;
  concurrency: number;
  /** Where the control plane lives (install config); default nginx-mesh. */
  meshNamespace?: string | undefined;
  /** Helm release name, when known (default: the newest release in the mesh namespace). */
  release?: string | undefined;
  /** The installed mesh version, when the caller knows it; else taken from the Helm release. */
  meshVersion?: string | undefined;
}

export interface BackupSummary {
  dir: string;
  meshVersion: string | null;
  kinds: { kind: string; version: string; file: string; count: number }[];
  absent: { kind: string; reason: string }[];
  crds: number;
  discoveryFailures: { groupVersion: string; error: string }[];
  warnings: string[];
  objects: number;
}

export interface Plan {
  row: CatalogKind;
  version?: string;
  absentReason?: string;
}

/**
 * Pure: which version to back up a kind in, given the versions its installed CRD serves. A CRD
 * that serves only versions this tool does not know may hold objects it cannot back up: a manual
 * hop would then delete them with the CRD, so the backup fails (nothing destructive has run).
 */
export function kindPlan(row: CatalogKind, served: readonly string[]): Plan {
  const version = pickVersion(row, served);
  if (version) return { row, version };
  if (served.length === 0) return { row, absentReason: `CRD ${resourceName(row)} serves no version` };
  throw new ToolError(
    `CRD ${resourceName(row)} serves ${served.join(', ')}, which this version of kubectl nsm-upgrade cannot back up (it knows ${row.versions.join(', ')}): its objects would be lost by a removal`,
    ExitCode.failed,
    'Nothing was changed. Use a kubectl nsm-upgrade that knows that version, or back up those objects yourself (kubectl get -A -o yaml) before upgrading.',
  );
}

/** Decides per kind which version to list with, from the CRDs found and what discovery served. */
export async function planKinds(
  deps: Deps,
  crds: KubeObject[],
): Promise<{ plans: Plan[]; failures: { groupVersion: string; error: string }[] }> {
  const disc = await discover(deps.kube, new Set(catalog.map((k) => k.group)));
  const byName = new Map(crds.map((c) => [c.metadata?.name, c]));
  const plans = await Promise.all(
    catalog.map(async (row): Promise<Plan> => {
      let crd = byName.get(resourceName(row));
      if (!crd) {
        try {
          crd = await deps.kube.request<KubeObject>({ path: objectPath(core.crds, resourceName(row)) });
        } catch (err) {
          if (err instanceof KubeApiError && err.status === 404)
            return { row, absentReason: `CRD ${resourceName(row)} is not installed` };
          throw err;
        }
      }
      const served = disc.resources
        .filter((r) => r.group === row.group && r.plural === row.plural)
        .map((r) => r.version);
      // When discovery of any version of the group failed, the answer is partial: the CRD's own spec
      // says what is served (else one failed version would silently switch the kind to another).
      const fromCrd = ((crd.spec as { versions?: { name: string; served: boolean }[] } | undefined)?.versions ?? [])
        .filter((v) => v.served)
        .map((v) => v.name);
      const groupFailed = disc.failed.some((f) => f.groupVersion.startsWith(`${row.group}/`));
      return kindPlan(row, served.length > 0 && !groupFailed ? served : fromCrd);
    }),
  );
  return { plans, failures: disc.failed };
}

/**
 * Lists one kind page by page and streams the cleaned objects into its file, so memory holds
 * one page at a time. The server returns lists in namespace/name order, so files are stable.
 */
async function backupKind(
  deps: Deps,
  dir: string,
  row: CatalogKind,
  version: string,
  namespace: string | undefined,
): Promise<ManifestFile> {
  const listPath = collectionPath({ group: row.group, version, plural: row.plural, namespaced: true }, namespace);
  const file = resourceFilePath(row);
  const out = await openAtomic(deps.fs, dir, file);
  let count = 0;
  try {
    for await (const page of listPages(deps.kube, listPath, { limit: 500 })) {
      await out.write(
        dumpDocuments(
          page.map((item) => sanitizeForCreate({ ...item, apiVersion: `${row.group}/${version}`, kind: row.kind })),
        ),
      );
      count += page.length;
    }
  } catch (err) {
    await out.abort();
    throw err;
  }
  return { path: file, kind: row.kind, group: row.group, version, count, sha256: await out.commit() };
}

export async function backupMesh(deps: Deps, opts: BackupOptions): Promise<BackupSummary> {
  const meshNamespace = opts.meshNamespace ?? 'nginx-mesh';
  await prepareBackupDir(deps.fs, opts.dir);
  const crds = await listAll(deps.kube, collectionPath(core.crds), { labelSelector: meshCrdSelector });
  const [{ plans, failures }, install] = await Promise.all([
    planKinds(deps, crds),
    captureInstall(deps.kube, meshNamespace, opts.release),
  ]);
  for (const f of failures)
    deps.log.warn(`discovery of ${f.groupVersion} failed (${f.error}); continuing with what the server answered`);
  const meshVersion = opts.meshVersion ?? install.helmRelease?.chart.appVersion?.replace(/^v/, '') ?? null;

  const files: ManifestFile[] = [];
  const kinds: BackupSummary['kinds'] = [];
  const present = plans.filter((p) => p.version);
  await mapLimit(present, opts.concurrency, async ({ row, version }) => {
    const f = await backupKind(deps, opts.dir, row, version!, opts.namespace);
    files.push(f);
    kinds.push({ kind: row.kind, version: version!, file: f.path, count: f.count });
    deps.log.debug(`backed up ${f.count} ${row.kind} (${row.group}/${version})`);
  });
  const crdText = dumpDocuments(
    crds.map((c) =>
      sanitizeForCreate({ ...c, apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition' }),
    ),
  );
  await writeFileAtomic(deps.fs, opts.dir, 'crds.yaml', crdText);
  files.push({ path: 'crds.yaml', kind: 'CustomResourceDefinition', count: crds.length, sha256: sha256(crdText) });
  const installDoc = { helmRelease: install.helmRelease, meshConfigMap: install.meshConfigMap };
  const installText = dumpDocuments([installDoc]);
  await writeFileAtomic(deps.fs, opts.dir, 'install.yaml', installText);
  files.push({ path: 'install.yaml', kind: 'InstallConfig', count: 1, sha256: sha256(installText) });

  const order = (f: ManifestFile) => catalog.findIndex((k) => k.kind === f.kind);
  files.sort((a, b) => order(a) - order(b));
  const absent = plans.filter((p) => p.absentReason).map((p) => ({ kind: p.row.kind, reason: p.absentReason! }));
  const manifest: Manifest = {
    formatVersion: manifestFormatVersion,
    toolVersion,
    context: deps.kube.context,
    server: deps.kube.server,
    meshVersion,
    createdAt: new Date(deps.clock.now()).toISOString(),
    namespace: opts.namespace ?? null,
    files,
    absent,
    discoveryFailures: failures,
  };
  await writeFileAtomic(deps.fs, opts.dir, 'manifest.json', JSON.stringify(manifest, null, 2) + '\n');

  // Read back what was written: hashes, counts, every document (without keeping the objects).
  await verifyBackup(deps.fs, opts.dir, { keepObjects: false });
  const objects = kinds.reduce((n, k) => n + k.count, 0);
  kinds.sort((a, b) => catalog.findIndex((k) => k.kind === a.kind) - catalog.findIndex((k) => k.kind === b.kind));
  return {
    dir: opts.dir,
    meshVersion,
    kinds,
    absent,
    crds: crds.length,
    discoveryFailures: failures,
    warnings: install.warnings,
    objects,
  };
}
