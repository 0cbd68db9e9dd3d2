/**
 * Watching a run for one password: every process's command line sampled every 50 ms while the tool
 * runs, and the files under a directory that hold it (with their modes). Shared by the upgrade's and
 * the rollback's secrets tests.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { clusterEnv, repoRoot } from './cluster.ts';
import { chartsDir } from './mesh-scenario.ts';

/** Runs the tool with `args`; psHits are the command lines that held the password (it shown as <PW>). */
export async function runWatchingPs(
  password: string,
  args: string[],
): Promise<{ exitCode: number; all: string; psHits: string[] }> {
  const child = execa(path.join(repoRoot, 'bin/kubectl-nsm_upgrade'), args, {
    reject: false,
    all: true,
    env: { ...clusterEnv(), NSM_CHARTS_DIR: chartsDir },
    timeout: 900_000,
  });
  const psHits = new Set<string>();
  let done = false;
  const sampler = (async () => {
    while (!done) {
      const ps = await execa('ps', ['-eo', 'args'], { reject: false });
      for (const line of String(ps.stdout).split('\n'))
        if (line.includes(password)) psHits.add(line.replace(password, '<PW>'));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const res = await child;
  done = true;
  await sampler;
  return { exitCode: res.exitCode ?? 1, all: String(res.all), psHits: [...psHits] };
}

/** Files under dir holding the password, relative, with their modes. */
export function filesWith(password: string, dir: string): { file: string; mode: string }[] {
  const out: { file: string; mode: string }[] = [];
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const p = path.join(e.parentPath, e.name);
    if (fs.readFileSync(p, 'utf8').includes(password))
      out.push({ file: path.relative(dir, p), mode: (fs.statSync(p).mode & 0o777).toString(8) });
  }
  return out.sort((a, b) => a.file.localeCompare(b.file));
}

/**
 * Edits a finished run's journal as an attacker would: its deploy command now runs a script that
 * leaves a marker file, and only the first record and the steps in `keep` stay (so a resume would
 * run the deploy next). Returns the marker (it must never appear) and how many lines were kept.
 */
export function tamperJournal(
  journal: string,
  firstType: string,
  keep: readonly string[],
): { marker: string; lines: number } {
  const marker = path.join(path.dirname(journal), '..', 'evil-ran');
  const evil = path.join(path.dirname(journal), '..', 'evil.sh');
  fs.writeFileSync(evil, `#!/bin/sh\ntouch ${marker}\n`, { mode: 0o700 });
  const lines = fs
    .readFileSync(journal, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const first = lines[0] as { plan: { hops: { steps: { kind: string; commands: { bin: string }[] }[] }[] } };
  first.plan.hops[0]!.steps.find((s) => s.kind === 'deploy')!.commands[0]!.bin = evil;
  const kept = lines.filter((l) => l.type === firstType || (l.type === 'step' && keep.includes(String(l.step))));
  fs.writeFileSync(journal, kept.map((l) => JSON.stringify(l)).join('\n') + '\n', { mode: 0o600 });
  return { marker, lines: kept.length };
}

/**
 * Edits a journal as someone with the user's rights could, consistently: every mention of the
 * binary `real` (its path wherever the journal names it, and its sha256) now names a program of the
 * user's, private (0700), that answers `version` like the real one and leaves a marker whenever it
 * runs. Returns the marker (it must never appear) and the program.
 */
export function impersonateInJournal(
  journal: string,
  real: string,
  versionLine: string,
): { marker: string; impostor: string } {
  const marker = path.join(path.dirname(journal), '..', 'impostor-ran');
  const impostor = path.join(path.dirname(journal), '..', 'impostor');
  fs.writeFileSync(impostor, `#!/bin/sh\necho "$@" >> ${marker}\necho '${versionLine}'\n`, { mode: 0o700 });
  const sha = (p: string) => createHash('sha256').update(fs.readFileSync(p)).digest('hex');
  const text = fs.readFileSync(journal, 'utf8').split(real).join(impostor).split(sha(real)).join(sha(impostor));
  fs.writeFileSync(journal, text, { mode: 0o600 });
  return { marker, impostor };
}
