import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { load } from 'js-yaml';
import { archiveFiles, krewPlatform, withSha256 } from '../../../build/release.ts';
import { manifestsDir } from './manifests.ts';
import { repoRoot } from '../../support/cluster.ts';
import { krewProblems, type KrewPlatform, type KrewPlugin } from './krew-rules.ts';
import { loadDocs } from './manifests.ts';

const file = 'nsm-upgrade.yaml';
const docs = loadDocs(`krew/${file}`);
const plugin = docs[0] as unknown as KrewPlugin;
const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
};

describe('manifests/krew/nsm-upgrade.yaml', () => {
  it("is one document that passes krew's offline validation", () => {
    expect(docs).toHaveLength(1);
    expect(krewProblems(file, plugin)).toEqual([]);
  });
  it('offers linux and darwin on amd64 and arm64, each pointing at its own archive', () => {
    const pairs = plugin.spec!.platforms!.map((p) => `${p.selector!.matchLabels!.os}/${p.selector!.matchLabels!.arch}`);
    expect(pairs.sort()).toEqual(['darwin/amd64', 'darwin/arm64', 'linux/amd64', 'linux/arm64']);
    for (const p of plugin.spec!.platforms!) {
      const { os, arch } = p.selector!.matchLabels!;
      expect(p.uri).toMatch(new RegExp(`-${os}-${arch}\\.tar\\.gz$`));
    }
  });
  it('releases the package version and installs the same command name as the npm package', () => {
    expect(plugin.spec!.version).toBe(`v${pkg.version}`);
    expect(plugin.spec!.platforms!.every((p) => p.uri!.includes(`/v${pkg.version}/`))).toBe(true);
    for (const p of plugin.spec!.platforms!) {
      expect(Object.keys(pkg.bin)).toContain(p.bin);
      expect(p.files!.map((f) => f.from)).toEqual(expect.arrayContaining([p.bin, 'kubectl_complete-nsm_upgrade']));
    }
  });
});

describe('the krew rules themselves (so a pass means something)', () => {
  const broken = (edit: (p: KrewPlugin) => void) => {
    const p = structuredClone(plugin);
    edit(p);
    return krewProblems(file, p);
  };
  it('reject each kind of mistake krew rejects', () => {
    expect(krewProblems('other.yaml', plugin)).toContainEqual(expect.stringMatching(/should be named other/));
    expect(
      broken((p) => {
        p.spec!.version = '0.1.0';
      }),
    ).toContainEqual(expect.stringMatching(/v prefix/));
    expect(
      broken((p) => {
        p.spec!.platforms![0]!.sha256 = 'ABC';
      }),
    ).toContainEqual(expect.stringMatching(/64 lower-case hex/));
    expect(
      broken((p) => {
        p.spec!.platforms![0]!.uri = 'http://example.com/a.tar.gz';
      }),
    ).toContainEqual(expect.stringMatching(/https/));
    expect(
      broken((p) => {
        p.spec!.platforms![1]!.selector = { matchLabels: { os: 'linux', arch: 'amd64' } };
      }),
    ).toContainEqual(expect.stringMatching(/overlap on linux\/amd64/));
    expect(
      broken((p) => {
        p.spec!.platforms![0]!.selector = { matchLabels: { os: 'plan9' } };
      }),
    ).toContainEqual(expect.stringMatching(/matches no supported platform/));
    expect(
      broken((p) => {
        p.spec!.platforms![0]!.selector = { matchLabels: { distro: 'x' } };
      }),
    ).toContainEqual(expect.stringMatching(/key distro not supported/));
    expect(
      broken((p) => {
        p.spec!.shortDescription = 'a '.repeat(40);
      }),
    ).toContainEqual(expect.stringMatching(/70 characters/));
    expect(
      broken((p) => {
        p.spec!.platforms![0]!.files = [];
      }),
    ).toContainEqual(expect.stringMatching(/file operations/));
    expect(
      broken((p) => {
        delete p.spec!.platforms![0]!.bin;
      }),
    ).toContainEqual(expect.stringMatching(/bin has to be set/));
  });
});

describe("release: filling in an archive's sha256 (build/release.ts)", () => {
  const text = fs.readFileSync(path.join(manifestsDir, 'krew', file), 'utf8');
  const sha = 'ab'.repeat(32);
  it("changes exactly that platform's sha256 and keeps the manifest valid and commented", () => {
    const out = withSha256(text, 'linux', 'arm64', sha);
    const p = load(out) as KrewPlugin;
    const key = (x: KrewPlatform) => `${x.selector!.matchLabels!.os}/${x.selector!.matchLabels!.arch}`;
    const before = new Map(plugin.spec!.platforms!.map((x) => [key(x), x.sha256]));
    for (const x of p.spec!.platforms!)
      expect(x.sha256, key(x)).toBe(key(x) === 'linux/arm64' ? sha : before.get(key(x)));
    expect(krewProblems(file, p)).toEqual([]);
    expect(out.split('\n').slice(0, 3)).toEqual(text.split('\n').slice(0, 3));
  });
  it('refuses a platform the manifest lacks and a value that is not a sha256', () => {
    expect(() => withSha256(text, 'windows', 'amd64', sha)).toThrow(/no platform with archive/);
    expect(() => withSha256(text, 'linux', 'amd64', 'xyz')).toThrow(/not a sha256/);
  });
  it('names platforms as krew does and ships the files the manifest copies', () => {
    expect(krewPlatform('linux', 'x64')).toEqual({ os: 'linux', arch: 'amd64' });
    expect(krewPlatform('darwin', 'arm64')).toEqual({ os: 'darwin', arch: 'arm64' });
    expect(() => krewPlatform('win32', 'x64')).toThrow(/no release archive/);
    for (const pl of plugin.spec!.platforms!)
      expect(pl.files!.map((f) => f.from).sort()).toEqual([...archiveFiles].sort());
  });
});
