/**
 * Release archive for krew and manual installs, for the platform this runs on:
 *
 *   node_modules/.bin/node build/sea.ts && node_modules/.bin/node build/release.ts
 *
 * writes dist/release/kubectl-nsm_upgrade-<os>-<arch>.tar.gz (the single-file executable and the
 * kubectl completion helper, the layout manifests/krew/nsm-upgrade.yaml's `files` expect), and
 * dist/release/nsm-upgrade.yaml: the krew manifest with this archive's sha256 filled in. Each
 * platform's archive is built on that platform (a single executable embeds its own Node).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { repoRoot } from './sea.ts';

/** Node's platform/arch names to krew's (Go's) names. */
export function krewPlatform(platform = process.platform, arch = process.arch): { os: string; arch: string } {
  const goArch: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };
  if (!['linux', 'darwin'].includes(platform) || !goArch[arch])
    throw new Error(
      `no release archive for ${platform}/${arch}: the krew manifest lists linux and darwin on amd64 and arm64`,
    );
  return { os: platform, arch: goArch[arch] };
}

export const archiveName = (os: string, arch: string) => `kubectl-nsm_upgrade-${os}-${arch}.tar.gz`;

/** The files in every archive, by name; krew's `files` copy them and `bin` runs the first. */
export const archiveFiles = ['kubectl-nsm_upgrade', 'kubectl_complete-nsm_upgrade'] as const;

/**
 * The manifest text with the sha256 of one platform's archive replaced (the `sha256:` line of the
 * platform block whose uri ends in that archive's name). Comments and layout are kept.
 */
export function withSha256(manifest: string, os: string, arch: string, sha256: string): string {
  if (!/^[a-f0-9]{64}$/.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
  const lines = manifest.split('\n');
  const at = lines.findIndex((l) => /^\s*uri:\s*\S+$/.test(l) && l.trimEnd().endsWith(`/${archiveName(os, arch)}`));
  if (at < 0) throw new Error(`the krew manifest has no platform with archive ${archiveName(os, arch)}`);
  const sha = lines.findIndex((l, i) => i > at && /^\s*sha256:/.test(l));
  if (sha < 0 || lines.slice(at + 1, sha).some((l) => /^\s*-\s*selector:/.test(l)))
    throw new Error(`platform ${os}/${arch} has no sha256 field`);
  lines[sha] = lines[sha]!.replace(/sha256:.*$/, `sha256: "${sha256}"`);
  return lines.join('\n');
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Stages the two files and tars them (argument array, no shell). Returns the archive path. */
export async function makeArchive(executable: string, outDir: string, os: string, arch: string): Promise<string> {
  const stage = path.join(outDir, `stage-${os}-${arch}`);
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(stage, { recursive: true });
  fs.copyFileSync(executable, path.join(stage, archiveFiles[0]));
  fs.copyFileSync(path.join(repoRoot, 'bin', archiveFiles[1]), path.join(stage, archiveFiles[1]));
  for (const f of archiveFiles) fs.chmodSync(path.join(stage, f), 0o755);
  const archive = path.join(outDir, archiveName(os, arch));
  await execa('tar', ['-czf', archive, '-C', stage, ...archiveFiles]);
  fs.rmSync(stage, { recursive: true, force: true });
  return archive;
}

if (import.meta.filename === process.argv[1]) {
  try {
    const { os, arch } = krewPlatform();
    const exe = path.join(repoRoot, 'dist/kubectl-nsm_upgrade');
    if (!fs.existsSync(exe))
      throw new Error('dist/kubectl-nsm_upgrade is missing: build it first with node_modules/.bin/node build/sea.ts');
    const outDir = path.join(repoRoot, 'dist/release');
    fs.mkdirSync(outDir, { recursive: true });
    const archive = await makeArchive(exe, outDir, os, arch);
    const sha = await sha256File(archive);
    const manifest = withSha256(
      fs.readFileSync(path.join(repoRoot, 'manifests/krew/nsm-upgrade.yaml'), 'utf8'),
      os,
      arch,
      sha,
    );
    fs.writeFileSync(path.join(outDir, 'nsm-upgrade.yaml'), manifest);
    process.stdout.write(
      `${path.relative(process.cwd(), archive)}\n  sha256 ${sha}\n${path.relative(process.cwd(), path.join(outDir, 'nsm-upgrade.yaml'))} (krew manifest with this sha256)\n`,
    );
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
