/**
 * Backup and restore benchmark: N custom resources (six kinds over M namespaces) on the local
 * cluster, ours beside what an experienced user would run.
 *
 *   node bench/backup-restore.ts [--objects 10000] [--namespaces 100] [--concurrency 32]
 *        [--phases backup,restore] [--kubectl-sequential auto|yes|no] [--client-node auto|yes|no] [--profile DIR] [--keep]
 *
 * backup (ours at the tool's default concurrency):
 *   the six `kubectl get <plural>.<group> -A -o yaml`, one after another and all six at once
 * restore (ours at --concurrency C, fieldValidation=Strict as kubectl create uses):
 *   client-node's generic object API (KubernetesObjectApi.create), C at once (bench/client-node-restore.ts;
 *   auto: only up to 20,000 objects);
 *   `kubectl create -f` of the objects split into C files, C processes at once (xargs -P C);
 *   `kubectl create -f DIR` of the backup, as documented (auto: only up to 20,000 objects)
 * Every run is a child process under /usr/bin/time -v (peak RSS, CPU); the cluster's CPU is sampled
 * around each (the floor). --profile DIR writes a V8 CPU profile of our restore there.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { createKube, type Kube, type KubeObject } from '../src/kube/client.ts';
import { loadKubeConfig } from '../src/kube/kubeconfig.ts';
import { listPages } from '../src/kube/list.ts';
import { collectionPath, core } from '../src/kube/paths.ts';
import { catalog } from '../src/mesh/catalog.ts';
import { mapLimit } from '../src/concurrency.ts';
import { concurrencyOption } from '../src/cli/options.ts';
import { isTransient } from '../src/backup/apply.ts';
import { verifyBackup } from '../src/backup/verify.ts';
import { sha256, type Manifest } from '../src/backup/manifest.ts';
import { dumpDocuments } from '../src/backup/yaml.ts';
import { formatResult, recordResults, thisCommand, today, type Baseline, type BenchResult } from './results.ts';
import { kubeconfig, kubectlBin } from './local.ts';
import { baseline, measure, ours, oursFigures, type Measured } from './measure.ts';
import { ensureCatalogCrds, refOf, sampleObject } from '../test/fixtures/backups/cluster.ts';

const { values: args } = parseArgs({
  options: {
    objects: { type: 'string', default: '10000' },
    namespaces: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '32' },
    phases: { type: 'string', default: 'backup,restore' },
    'kubectl-sequential': { type: 'string', default: 'auto' },
    'client-node': { type: 'string', default: 'auto' },
    profile: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const phases = new Set(args.phases.split(','));
const total = Number(args.objects);
const nsCount = Number(args.namespaces);
const concurrency = Number(args.concurrency);
const sequential = args['kubectl-sequential'] === 'yes' || (args['kubectl-sequential'] === 'auto' && total <= 20_000);
// client-node's generic API spends ~4 ms of CPU per create: at 100,000 objects that is many minutes.
const viaClientNode = args['client-node'] === 'yes' || (args['client-node'] === 'auto' && total <= 20_000);
const kinds = catalog.filter((k) => k.kind !== 'MeshConfig'); // the six kinds of the documented backup
const prefix = `bench-br-${Date.now().toString(36)}`;
const namespaces = Array.from({ length: nsCount }, (_, i) => `${prefix}-${i}`);
const log = (m: string) => process.stderr.write(`[bench] ${m} (load ${os.loadavg()[0]!.toFixed(1)})\n`);
const node = process.execPath;

async function kubectl(argv: string[], stdoutFile?: string): Promise<void> {
  const res = await execa(kubectlBin, ['--kubeconfig', kubeconfig, ...argv], {
    reject: false,
    ...(stdoutFile ? { stdout: { file: stdoutFile } } : {}),
  });
  if (res.exitCode !== 0) throw new Error(`kubectl ${argv.join(' ')} failed: ${String(res.stderr).slice(0, 2000)}`);
}

/** Retries a request the way restore does (webhook not answering, 429/5xx) for up to a minute. */
async function retrying<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransient(err) || attempt > 30) throw err;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

/**
 * Waits until no validating webhook intercepts the catalog groups: other tests on a shared cluster
 * install the real chart's cluster-wide webhook (failurePolicy Fail) with fake pods, which would
 * make every side of the comparison measure webhook timeouts.
 */
async function waitForQuietCluster(kube: Kube): Promise<void> {
  const groups = new Set(kinds.map((k) => k.group));
  for (let i = 0; ; i++) {
    const list = await kube.request<{
      items: { metadata: { name: string }; webhooks?: { rules?: { apiGroups?: string[] }[] }[] }[];
    }>({ path: '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations' });
    const busy = list.items.filter((w) =>
      (w.webhooks ?? []).some((h) =>
        (h.rules ?? []).some((r) => (r.apiGroups ?? []).some((g) => g === '*' || groups.has(g))),
      ),
    );
    if (busy.length === 0) return;
    if (i === 0 || i % 6 === 0)
      log(`waiting for other tests' mesh webhooks to go: ${busy.map((w) => w.metadata.name).join(', ')}`);
    if (i > 180)
      throw new Error(
        'validating webhooks for the mesh groups stayed for 30 minutes; run the benchmark on a quiet cluster',
      );
    await new Promise((r) => setTimeout(r, 10_000));
  }
}

async function seed(kube: Kube): Promise<void> {
  await mapLimit(namespaces, 32, (name) =>
    kube.request({
      method: 'POST',
      path: collectionPath(core.namespaces),
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
    }),
  );
  const work = Array.from({ length: total }, (_, i) => ({
    k: kinds[i % kinds.length]!,
    ns: namespaces[Math.floor(i / kinds.length) % nsCount]!,
    i,
  }));
  await mapLimit(work, 32, ({ k, ns, i }) =>
    retrying(() =>
      kube.request({ method: 'POST', path: collectionPath(refOf(k), ns), body: sampleObject(k, ns, i), noRetry: true }),
    ),
  );
}

async function clear(kube: Kube): Promise<void> {
  await mapLimit(
    namespaces.flatMap((ns) => kinds.map((k) => ({ ns, k }))),
    16,
    ({ ns, k }) => kube.request({ method: 'DELETE', path: collectionPath(refOf(k), ns) }),
  );
  for (let i = 0; (await countBench(kube)) > 0; i++) {
    if (i > 300) throw new Error('the bench objects were not all deleted in 5 minutes');
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function countBench(kube: Kube): Promise<number> {
  let n = 0;
  for (const k of kinds) {
    for await (const page of listPages<KubeObject>(kube, collectionPath(refOf(k)), { limit: 5000 }))
      n += page.filter((o) => o.metadata?.namespace?.startsWith(prefix)).length;
  }
  return n;
}

/** A copy of an all-namespaces backup holding only the bench namespaces (a restore must not touch other objects). */
async function benchOnlyBackup(from: string, to: string): Promise<KubeObject[]> {
  const b = await verifyBackup(fs, from);
  await fs.mkdir(path.join(to, 'resources'), { recursive: true, mode: 0o700 });
  const files: Manifest['files'] = [];
  const all: KubeObject[] = [];
  for (const k of b.kinds) {
    const objs = k.objects.filter((o) => o.metadata?.namespace?.startsWith(prefix));
    all.push(...objs);
    const text = dumpDocuments(objs);
    await fs.writeFile(path.join(to, k.path), text, { mode: 0o600 });
    files.push({
      path: k.path,
      kind: k.row.kind,
      group: k.row.group,
      version: k.version,
      count: objs.length,
      sha256: sha256(text),
    });
  }
  await fs.writeFile(path.join(to, 'manifest.json'), JSON.stringify({ ...b.manifest, files }), { mode: 0o600 });
  return all;
}

/** The objects split round-robin into n YAML files, for n `kubectl create -f` at once. */
async function chunkFiles(objects: readonly KubeObject[], n: number, dir: string): Promise<string[]> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const chunks: KubeObject[][] = Array.from({ length: n }, () => []);
  objects.forEach((o, i) => chunks[i % n]!.push(o));
  return Promise.all(
    chunks.map(async (c, i) => {
      const f = path.join(dir, `chunk-${i}.yaml`);
      await fs.writeFile(f, dumpDocuments(c), { mode: 0o600 });
      return f;
    }),
  );
}

/** The catalog CRDs' uids: another test removing the mesh (CRDs deleted) invalidates a run. */
async function crdUids(kube: Kube): Promise<string> {
  const list = await kube.request<{ items: KubeObject[] }>({ path: collectionPath(core.crds) });
  return list.items
    .filter((c) => kinds.some((k) => `${k.plural}.${k.group}` === c.metadata?.name))
    .map((c) => `${c.metadata?.name}=${String(c.metadata?.uid)}`)
    .sort()
    .join(',');
}

const kube = await createKube(loadKubeConfig({ kubeconfig }), { maxSockets: 32 });
const work = await fs.mkdtemp(path.join(os.tmpdir(), 'nsm-bench-'));
const results: BenchResult[] = [];
const entry = (
  name: string,
  what: string,
  objects: number,
  conc: number,
  m: Measured,
  baselines: Baseline[],
  extra: Partial<BenchResult> = {},
): BenchResult => ({
  name,
  what,
  objects,
  concurrency: conc,
  ...oursFigures(m),
  baselines,
  date: today(),
  command: thisCommand(),
  ...extra,
  note: [
    extra.note,
    `1-minute load average ${os.loadavg()[0]!.toFixed(1)} on ${os.availableParallelism()} cores at the end of the run`,
  ]
    .filter(Boolean)
    .join('; '),
});
try {
  await ensureCatalogCrds(kube);
  await waitForQuietCluster(kube);
  const uidsBefore = await crdUids(kube);
  const undisturbed = async (phase: string) => {
    if ((await crdUids(kube)) !== uidsBefore)
      throw new Error(
        `the catalog CRDs were deleted and re-created during the ${phase} (another test removed the mesh on this shared cluster): run the benchmark again`,
      );
  };
  log(`seeding ${total} objects (${kinds.length} kinds) over ${nsCount} namespaces...`);
  const t0 = performance.now();
  await seed(kube);
  log(`seeded in ${((performance.now() - t0) / 1000).toFixed(1)}s`);

  // Backup: ours at the tool's default concurrency; kubectl's six lists one after another and all at once.
  const b = await ours(['backup', '--dir', path.join(work, 'ours'), '-o', 'json']);
  const backedUp = (JSON.parse(b.stdout) as { objects: number }).objects;
  const getAll = (parallel: number) => async () =>
    mapLimit(kinds, parallel, (k) =>
      kubectl(
        ['get', `${k.plural}.${k.group}`, '-A', '-o', 'yaml'],
        path.join(work, `kubectl-${parallel}-${k.plural}.yaml`),
      ),
    );
  const seqGet = await baseline(getAll(1));
  const parGet = await baseline(getAll(kinds.length));
  await undisturbed('backup');
  const backupEntry = entry(
    `backup-${total}`,
    `backup of ${total} objects over 6 kinds and ${nsCount} namespaces`,
    backedUp,
    concurrencyOption.default,
    b,
    [
      {
        name: 'the six kubectl get -A -o yaml, one after another',
        command: 'kubectl get <plural>.<group> -A -o yaml > file, for the six kinds',
        seconds: seqGet.seconds,
        parallelism: 1,
        floor_seconds: seqGet.floor,
      },
      {
        name: 'the six kubectl get -A -o yaml, all at once',
        command: 'the same six commands, six processes at once',
        seconds: parGet.seconds,
        parallelism: kinds.length,
        floor_seconds: parGet.floor,
      },
    ],
    total > 10_000 ? { goal: 'peak RSS < 300 MB', met: b.rssMb < 300 } : {},
  );
  log(formatResult(backupEntry));
  results.push(backupEntry);

  if (phases.has('restore')) {
    const restoreDir = path.join(work, 'bench-only');
    const objects = await benchOnlyBackup(path.join(work, 'ours'), restoreDir);
    const chunks = await chunkFiles(objects, concurrency, path.join(work, 'chunks'));
    objects.length = 0;
    const fresh = async () => {
      await clear(kube);
      await waitForQuietCluster(kube);
    };
    const expectAll = async (who: string) => {
      const n = await countBench(kube);
      if (n !== total) throw new Error(`expected ${total} objects after ${who}'s restore, found ${n}`);
    };

    await fresh();
    const profileEnv = args.profile
      ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${path.resolve(args.profile)}` }
      : undefined;
    const r = await ours(
      ['restore', '--from', restoreDir, '--concurrency', String(concurrency), '--timeout', '30m'],
      profileEnv ? { env: profileEnv } : {},
    ).catch(async (err: unknown) => {
      await undisturbed('restore');
      throw err;
    });
    await expectAll('ours');
    log(
      `restore ours: ${r.seconds.toFixed(2)}s, cluster CPU ${r.clusterCpu.toFixed(1)}s (${((r.clusterCpu / total) * 1000).toFixed(2)} ms per object), our CPU ${r.cpuSeconds.toFixed(1)}s, floor ${r.floor.toFixed(2)}s, efficiency ${r.efficiency.toFixed(2)}, host steal ${(r.steal * 100).toFixed(0)}%`,
    );

    const baselines: Baseline[] = [];
    if (viaClientNode) {
      await fresh();
      const cn = await measure(node, [
        path.join(import.meta.dirname, 'client-node-restore.ts'),
        '--kubeconfig',
        kubeconfig,
        '--from',
        restoreDir,
        '--concurrency',
        String(concurrency),
      ]);
      const cnOut = JSON.parse(cn.stdout) as { created: number; failed: number; retries: number };
      if (cnOut.created !== total)
        throw new Error(`client-node restore created ${cnOut.created} of ${total} (${cnOut.failed} failed)`);
      await expectAll('client-node');
      log(
        `restore client-node KubernetesObjectApi: ${cn.seconds.toFixed(2)}s, its CPU ${cn.cpuSeconds.toFixed(1)}s, peak RSS ${cn.rssMb.toFixed(0)} MB, floor ${cn.floor.toFixed(2)}s`,
      );
      baselines.push({
        name: `client-node KubernetesObjectApi.create, ${concurrency} at once`,
        command: 'node bench/client-node-restore.ts (the same backup, verified the same way)',
        seconds: cn.seconds,
        parallelism: concurrency,
        floor_seconds: cn.floor,
        note: `its CPU ${cn.cpuSeconds.toFixed(1)} s (ours ${r.cpuSeconds.toFixed(1)} s), peak RSS ${cn.rssMb.toFixed(0)} MB (ours ${r.rssMb.toFixed(0)} MB); fieldValidation: the server's default Warn (its create has no such parameter), ours Strict`,
      });
    } else {
      log(
        `client-node's KubernetesObjectApi left out: at ~4 ms of CPU per create, ${total} objects take many minutes (--client-node yes runs it)`,
      );
    }
    await fresh();
    const par = await baseline(() => mapLimit(chunks, concurrency, (f) => kubectl(['create', '-f', f])));
    await expectAll('kubectl (parallel)');
    log(
      `restore kubectl create -f, ${concurrency} files at once: ${par.seconds.toFixed(2)}s, floor ${par.floor.toFixed(2)}s`,
    );
    baselines.push({
      name: `kubectl create -f, ${concurrency} files at once`,
      command: `the objects split into ${concurrency} files; ls chunk-*.yaml | xargs -P ${concurrency} -n 1 kubectl create -f`,
      seconds: par.seconds,
      parallelism: concurrency,
      floor_seconds: par.floor,
      note: 'kubectl create validates Strict, as ours',
    });

    if (sequential) {
      await fresh();
      const seq = await baseline(() => kubectl(['create', '-f', path.join(restoreDir, 'resources')]));
      await expectAll('kubectl (sequential)');
      log(`restore kubectl create -f DIR: ${seq.seconds.toFixed(2)}s, floor ${seq.floor.toFixed(2)}s`);
      baselines.push({
        name: 'kubectl create -f DIR (one process, one create at a time)',
        command: 'kubectl create -f <backup>/resources',
        seconds: seq.seconds,
        parallelism: 1,
        floor_seconds: seq.floor,
      });
    } else {
      log(
        `kubectl create -f DIR (one at a time) left out: ${total} creates one after another take many minutes (--kubectl-sequential yes runs it)`,
      );
    }
    await undisturbed('restore');
    const restoreEntry = entry(
      `restore-${total}`,
      `restore of the same ${total} objects (create, fieldValidation=Strict)`,
      total,
      concurrency,
      r,
      baselines,
      {
        goal: 'efficiency >= 0.9',
        met: r.efficiency >= 0.9,
        ...(args.profile ? { note: `CPU profile of our run in ${args.profile}` } : {}),
      },
    );
    log(formatResult(restoreEntry));
    results.push(restoreEntry);
  }
  await recordResults(results);
  log('wrote bench/results.json');
} finally {
  if (args.keep) log(`kept the bench namespaces ${prefix}-*`);
  else {
    log('cleaning up the bench namespaces');
    await mapLimit(namespaces, 16, (name) =>
      kube.request({ method: 'DELETE', path: `/api/v1/namespaces/${name}` }).catch(() => undefined),
    );
  }
  await fs.rm(work, { recursive: true, force: true });
}
