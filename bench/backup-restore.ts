/**
 * Benchmark of issue 4: backup and restore of 10,000 custom resources (six kinds over 100
 * namespaces) on the local cluster, side by side with the documented kubectl commands.
 *
 *   node bench/backup-restore.ts [--objects 10000] [--namespaces 100] [--concurrency 32] [--phases backup,restore] [--keep]
 *
 * backup:  ours (`kubectl nsm-upgrade backup`) vs the six `kubectl get <plural>.<group> -A -o yaml`
 * restore: ours (`kubectl nsm-upgrade restore`) vs `kubectl create -f` of the same files
 * Our runs are child processes under /usr/bin/time -v for their peak RSS. Results are merged
 * into bench/results.json as {name, objects, ours_seconds, baseline_seconds, speedup, peak_rss_mb}.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { createKube, type Kube, type KubeObject } from '../src/kube/client.ts';
import { loadKubeConfig } from '../src/kube/kubeconfig.ts';
import { collectionPath, core } from '../src/kube/paths.ts';
import { catalog } from '../src/mesh/catalog.ts';
import { mapLimit } from '../src/concurrency.ts';
import { isTransient } from '../src/backup/apply.ts';
import { verifyBackup } from '../src/backup/verify.ts';
import { sha256, type Manifest } from '../src/backup/manifest.ts';
import { dumpDocuments } from '../src/backup/yaml.ts';
import { recordResults } from './results.ts';
import { kubeconfig, kubectlBin, timed } from './local.ts';
import { cores, withClusterCpu } from './cluster-cpu.ts';
import { ensureCatalogCrds, refOf, sampleObject } from '../test/fixtures/backups/cluster.ts';

const root = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({ options: { objects: { type: 'string', default: '10000' }, namespaces: { type: 'string', default: '100' }, concurrency: { type: 'string', default: '32' }, phases: { type: 'string', default: 'backup,restore' }, keep: { type: 'boolean', default: false } } });
const phases = new Set(args.phases.split(','));
const total = Number(args.objects);
const nsCount = Number(args.namespaces);
const concurrency = Number(args.concurrency);
const kinds = catalog.filter((k) => k.kind !== 'MeshConfig'); // the six kinds of the documented backup
const prefix = `bench-br-${Date.now().toString(36)}`;
const namespaces = Array.from({ length: nsCount }, (_, i) => `${prefix}-${i}`);
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

/** Runs our CLI under /usr/bin/time -v; returns its wall time and peak RSS. */
async function ours(argv: string[]): Promise<{ seconds: number; rssMb: number; stdout: string }> {
  const { seconds, value } = await timed(() => execa('/usr/bin/time', ['-v', path.join(root, 'bin/kubectl-nsm_upgrade'), '--kubeconfig', kubeconfig, ...argv], { reject: false }));
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(String(value.stderr));
  if (value.exitCode !== 0) throw new Error(`our run failed (${value.exitCode}): ${String(value.stderr).slice(0, 2000)}`);
  return { seconds, rssMb: rss ? Number(rss[1]) / 1024 : NaN, stdout: String(value.stdout) };
}

async function kubectl(argv: string[], stdoutFile?: string): Promise<void> {
  const res = await execa(kubectlBin, ['--kubeconfig', kubeconfig, ...argv], { reject: false, ...(stdoutFile ? { stdout: { file: stdoutFile } } : {}) });
  if (res.exitCode !== 0) throw new Error(`kubectl ${argv.join(' ')} failed: ${String(res.stderr).slice(0, 2000)}`);
}

/** Retries a request the way restore does (webhook not answering, 429/5xx) for up to a minute. */
async function retrying<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try { return await fn(); } catch (err) {
      if (!isTransient(err) || attempt > 30) throw err;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

/**
 * Waits until no validating webhook intercepts the catalog groups: other tests on the shared
 * cluster install the real chart's cluster-wide webhook (failurePolicy Fail) with fake pods,
 * which would make both sides of the comparison measure webhook timeouts.
 */
async function waitForQuietCluster(kube: Kube): Promise<void> {
  const groups = new Set(kinds.map((k) => k.group));
  for (let i = 0; ; i++) {
    const list = await kube.request<{ items: { metadata: { name: string }; webhooks?: { rules?: { apiGroups?: string[] }[] }[] }[] }>({ path: '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations' });
    const busy = list.items.filter((w) => (w.webhooks ?? []).some((h) => (h.rules ?? []).some((r) => (r.apiGroups ?? []).some((g) => g === '*' || groups.has(g)))));
    if (busy.length === 0) return;
    if (i === 0 || i % 6 === 0) log(`waiting for other tests' mesh webhooks to go: ${busy.map((w) => w.metadata.name).join(', ')}`);
    if (i > 180) throw new Error('validating webhooks for the mesh groups stayed for 30 minutes; run the benchmark on a quiet cluster');
    await new Promise((r) => setTimeout(r, 10_000));
  }
}

async function seed(kube: Kube): Promise<void> {
  await mapLimit(namespaces, concurrency, (name) => kube.request({ method: 'POST', path: collectionPath(core.namespaces), body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } }));
  const work = Array.from({ length: total }, (_, i) => ({ k: kinds[i % kinds.length]!, ns: namespaces[Math.floor(i / kinds.length) % nsCount]!, i }));
  await mapLimit(work, concurrency, ({ k, ns, i }) => retrying(() => kube.request({ method: 'POST', path: collectionPath(refOf(k), ns), body: sampleObject(k, ns, i), noRetry: true })));
}

async function clear(kube: Kube): Promise<void> {
  await mapLimit(namespaces.flatMap((ns) => kinds.map((k) => ({ ns, k }))), concurrency, ({ ns, k }) => kube.request({ method: 'DELETE', path: collectionPath(refOf(k), ns) }));
}

async function countBench(kube: Kube): Promise<number> {
  let n = 0;
  for (const k of kinds) {
    const list = await kube.request<{ items: KubeObject[] }>({ path: collectionPath(refOf(k)) });
    n += list.items.filter((o) => o.metadata?.namespace?.startsWith(prefix)).length;
  }
  return n;
}

/** A copy of an all-namespaces backup holding only the bench namespaces (a restore must not touch other objects). */
async function benchOnlyBackup(from: string, to: string): Promise<void> {
  const b = await verifyBackup(fs, from);
  await fs.mkdir(path.join(to, 'resources'), { recursive: true, mode: 0o700 });
  const files: Manifest['files'] = [];
  for (const k of b.kinds) {
    const objs = k.objects.filter((o) => o.metadata?.namespace?.startsWith(prefix));
    const text = dumpDocuments(objs);
    await fs.writeFile(path.join(to, k.path), text, { mode: 0o600 });
    files.push({ path: k.path, kind: k.row.kind, group: k.row.group, version: k.version, count: objs.length, sha256: sha256(text) });
  }
  await fs.writeFile(path.join(to, 'manifest.json'), JSON.stringify({ ...b.manifest, files }), { mode: 0o600 });
}

/** The catalog CRDs' uids: another test removing the mesh (CRDs deleted) invalidates a run. */
async function crdUids(kube: Kube): Promise<string> {
  const list = await kube.request<{ items: KubeObject[] }>({ path: collectionPath(core.crds) });
  return list.items.filter((c) => kinds.some((k) => `${k.plural}.${k.group}` === c.metadata?.name)).map((c) => `${c.metadata?.name}=${String(c.metadata?.uid)}`).sort().join(',');
}

const kube = await createKube(loadKubeConfig({ kubeconfig }), { maxSockets: concurrency });
const work = await fs.mkdtemp(path.join(os.tmpdir(), 'nsm-bench-'));
const results: { name: string; objects: number; ours_seconds: number; baseline_seconds: number; speedup: number; peak_rss_mb: number }[] = [];
try {
  await ensureCatalogCrds(kube);
  await waitForQuietCluster(kube);
  const uidsBefore = await crdUids(kube);
  const undisturbed = async (phase: string) => {
    if ((await crdUids(kube)) !== uidsBefore) throw new Error(`the catalog CRDs were deleted and re-created during the ${phase} (another test removed the mesh on this shared cluster): run the benchmark again`);
  };
  log(`seeding ${total} objects (${kinds.length} kinds) over ${nsCount} namespaces...`);
  log(`seeded in ${(await timed(() => seed(kube))).seconds.toFixed(1)}s`);

  const base = await timed(async () => { for (const k of kinds) await kubectl(['get', `${k.plural}.${k.group}`, '-A', '-o', 'yaml'], path.join(work, `kubectl-${k.plural}.yaml`)); });
  const b = await ours(['backup', '--dir', path.join(work, 'ours'), '--concurrency', String(concurrency), '-o', 'json']);
  const backedUp = (JSON.parse(b.stdout) as { objects: number }).objects;
  log(`backup: ours ${b.seconds.toFixed(2)}s (${backedUp} objects, peak RSS ${b.rssMb.toFixed(0)} MB), kubectl get x6 ${base.seconds.toFixed(2)}s`);
  await undisturbed('backup');
  results.push({ name: 'backup', objects: backedUp, ours_seconds: b.seconds, baseline_seconds: base.seconds, speedup: base.seconds / b.seconds, peak_rss_mb: b.rssMb });

  if (phases.has('restore')) {
  const restoreDir = path.join(work, 'bench-only');
  await benchOnlyBackup(path.join(work, 'ours'), restoreDir);
  await clear(kube);
  await waitForQuietCluster(kube);
  const { value: r, clusterCpu: oursCpu, steal: oursSteal } = await withClusterCpu(() => ours(['restore', '--from', restoreDir, '--concurrency', String(concurrency), '--timeout', '15m']).catch(async (err: unknown) => {
    await undisturbed('restore');
    await fs.copyFile(path.join(restoreDir, 'restore-report.json'), '/tmp/bench-restore-report.json').catch(() => undefined);
    throw err;
  }));
  const restored = await countBench(kube);
  await clear(kube);
  await waitForQuietCluster(kube);
  const { value: baseR, clusterCpu: baseCpu, steal: baseSteal } = await withClusterCpu(() => timed(() => kubectl(['create', '-f', path.join(restoreDir, 'resources')])));
  const created = await countBench(kube);
  log(`restore: ours ${r.seconds.toFixed(2)}s (${restored} objects, peak RSS ${r.rssMb.toFixed(0)} MB), kubectl create -f ${baseR.seconds.toFixed(2)}s (${created} objects)`);
  // Every create costs the server work, least when creates arrive together (as ours do): the
  // cluster's CPU seconds during ours over the machine's cores is the shortest any restore could take
  // here, and bounds the possible speedup.
  const floor = oursCpu / cores;
  log(`restore: cluster CPU ${oursCpu.toFixed(1)} s during ours (${(oursCpu / total * 1000).toFixed(2)} ms per object), ${baseCpu.toFixed(1)} s during kubectl's; `
    + `on ${cores} cores no restore can take under ${floor.toFixed(1)} s, so at most ${(baseR.seconds / floor).toFixed(1)}x against this baseline `
    + `(CPU stolen by the host: ${(oursSteal * 100).toFixed(0)}% during ours, ${(baseSteal * 100).toFixed(0)}% during kubectl's)`);
  await undisturbed('restore');
  if (restored !== total || created !== total) throw new Error(`expected ${total} objects after each restore, found ours=${restored} kubectl=${created}`);
  results.push({ name: 'restore', objects: restored, ours_seconds: r.seconds, baseline_seconds: baseR.seconds, speedup: baseR.seconds / r.seconds, peak_rss_mb: r.rssMb });
  }

  const merged = await recordResults('results.json', results);
  console.log(JSON.stringify(merged, null, 2));
} finally {
  if (args.keep) log(`kept the bench namespaces ${prefix}-*`);
  else log('cleaning up the bench namespaces');
  if (!args.keep) await mapLimit(namespaces, concurrency, (name) => kube.request({ method: 'DELETE', path: `/api/v1/namespaces/${name}` }).catch(() => undefined));
  await fs.rm(work, { recursive: true, force: true });
}
