import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dump } from 'js-yaml';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Deps } from '../../../src/deps.ts';
import type { Command, CommandResult } from '../../../src/exec/runner.ts';
import { UsageError } from '../../../src/errors.ts';
import { markSecrets, Secret } from '../../../src/secret.ts';
import { digestInputs } from '../../../src/engine/binary-digests.ts';
import { appendJournal, journalSchemaVersion, readJournal } from '../../../src/engine/journal.ts';
import { buildPlan } from '../../../src/upgrade/plan.ts';
import { planForResume, type ResumeArgs } from '../../../src/upgrade/resume.ts';
import type { Install, PlanOptions } from '../../../src/engine/types.ts';

const password = 'resume-pa55word';
const rawValues = { registry: { server: 'mirror.example/nsm', username: 'robot', password }, mtls: { mode: 'strict' } };

let dir: string;
/** Where the run's binaries are: nginx-meshctl-1.7.0 and nginx-meshctl-2.0.0 (also PATH in some tests). */
let bins: string;
let bin17: string;
let bin20: string;
/** A program of the user's, private, that a journal edited by someone with the user's rights may name. */
let evil: string;
/** Every command a resume check ran (only `version` of the binaries it found may appear). */
let ran: string[];
const versions: Record<string, string> = {};

const deps = {
  fs,
  exec: {
    async run(cmd: Command): Promise<CommandResult> {
      ran.push(`${cmd.bin} ${cmd.args.join(' ')}`);
      const v = versions[cmd.bin];
      return { exitCode: 0, stdout: v ? `nginx-meshctl - v${v}\n` : '', stderr: '', skipped: false };
    },
  },
  kube: {
    request: async () => {
      throw new Error('the API server is not reachable');
    },
  },
} as unknown as Deps;

async function program(p: string, version: string | undefined, text = '#!/bin/sh\n'): Promise<string> {
  await fs.writeFile(p, text, { mode: 0o700 });
  if (version) versions[p] = version;
  return p;
}

const install: () => Install = () => ({
  namespace: 'nginx-mesh',
  version: '1.7.0',
  method: 'meshctl',
  release: 'nginx-service-mesh',
  releaseRevision: 1,
  releaseStatus: 'deployed',
  releaseStuck: false,
  chartVersion: '0.7.0',
  environment: 'kubernetes',
  values: markSecrets(rawValues),
  controlPlane: { deployment: 'nginx-mesh-api', image: 'r/nginx-mesh-api:1.7.0' },
  warnings: [],
});

/** A run as the tool journals it: the run record (binaries hashed), and hop1.backup done with its manifest's hash. */
async function writeRun(
  over: {
    inputs?: Partial<PlanOptions>;
    install?: Partial<Install>;
    mutate?: (record: Record<string, unknown>) => void;
    backupDone?: boolean;
  } = {},
): Promise<void> {
  const inst = { ...install(), ...over.install };
  const inputs: PlanOptions = {
    to: '2.0.0',
    strategy: 'manual',
    meshctlBinaries: { '1.7.0': bin17, '2.0.0': bin20 },
    helm: undefined,
    chart: { kind: 'repo', ref: 'nginx-stable/nginx-service-mesh' },
    deployFlagChanges: { 'registry-password': new Secret('new-pa55word', 'registry-password'), 'enable-udp': 'true' },
    labelNamespaces: false,
    unlabelledInjectedNamespaces: [],
    backupDir: dir,
    timeout: '5m',
    ...over.inputs,
  };
  const plan = buildPlan(inst, inputs);
  const binaries = await digestInputs(fs, inputs);
  const record: Record<string, unknown> = JSON.parse(
    JSON.stringify({
      type: 'run',
      schema: journalSchemaVersion,
      runId: 'r1',
      at: 't',
      toolVersion: 'x',
      install: inst,
      inputs,
      cluster: { server: 'https://k', uid: 'u' },
      plan,
      binaries,
    }),
  );
  over.mutate?.(record);
  await appendJournal(fs, dir, record as never);
  await fs.mkdir(path.join(dir, 'hop1'), { recursive: true, mode: 0o700 });
  const manifestSha256 = await writeInstallBackup({ helmRelease: { values: rawValues } });
  if (over.backupDone !== false)
    await appendJournal(fs, dir, {
      type: 'step',
      runId: 'r1',
      at: 't',
      step: 'hop1.backup',
      status: 'done',
      data: { manifestSha256 },
    });
}

/** hop1/ as a backup holding only install.yaml, with a manifest that lists it (what verifyBackup checks); returns the manifest's sha256. */
async function writeInstallBackup(content: unknown): Promise<string> {
  const text = dump(content);
  const manifest = JSON.stringify({
    formatVersion: 1,
    toolVersion: 'x',
    context: 'c',
    server: 's',
    meshVersion: '1.7.0',
    createdAt: 't',
    namespace: null,
    absent: [],
    discoveryFailures: [],
    files: [
      {
        path: 'install.yaml',
        kind: 'InstallConfig',
        count: 1,
        sha256: createHash('sha256').update(text).digest('hex'),
      },
    ],
  });
  await fs.writeFile(path.join(dir, 'hop1', 'install.yaml'), text, { mode: 0o600 });
  await fs.writeFile(path.join(dir, 'hop1', 'manifest.json'), manifest, { mode: 0o600 });
  return createHash('sha256').update(manifest).digest('hex');
}

/** The binaries given again, as a user resumes a run that was given them. */
const given: Partial<ResumeArgs> = {};
const resume = async (args: Partial<ResumeArgs> = {}) =>
  planForResume(deps, await readJournal(fs, dir), {
    dir,
    deployFlag: ['registry-password=new-pa55word'],
    ...given,
    ...args,
  });

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'resume-'));
  bins = await fs.mkdtemp(path.join(os.tmpdir(), 'resume-bin-'));
  bin17 = await program(path.join(bins, 'nginx-meshctl-1.7.0'), '1.7.0', '#!/bin/sh\n# 1.7.0\n');
  bin20 = await program(path.join(bins, 'nginx-meshctl-2.0.0'), '2.0.0', '#!/bin/sh\n# 2.0.0\n');
  evil = await program(
    path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'resume-home-')), 'evil.sh'),
    '2.0.0',
    '#!/bin/sh\ntouch /tmp/pwned\n',
  );
  Object.assign(given, { meshctl: [bin20], meshctlCurrent: bin17 });
  ran = [];
});

/** Every mention of `from` in the journal's first record made `to` (paths, hashes): an edit as consistent as can be. */
async function editJournal(from: string, to: string): Promise<void> {
  const file = path.join(dir, 'journal.ndjson');
  const text = await fs.readFile(file, 'utf8');
  await fs.writeFile(file, text.split(from).join(to), { mode: 0o600 });
}

describe('--resume DIR trusts nothing it reads from DIR', () => {
  it('builds the same plan again, with the credentials from the backup and --deploy-flag, none from the journal', async () => {
    await writeRun();
    expect(await fs.readFile(path.join(dir, 'journal.ndjson'), 'utf8')).not.toContain(password);
    const { plan } = await resume({ to: '2.0.0' });
    const deploy = plan.hops[0]!.steps.find((s) => s.kind === 'deploy')!.commands[0]!;
    const secrets = deploy.args.filter((a): a is Secret => a instanceof Secret).map((s) => s.reveal());
    expect(secrets).toEqual(['new-pa55word']); // the --deploy-flag given again overrides the release value
    expect(deploy.bin).toBe(bin20);
  });

  it('finds the binaries on PATH by version, as a fresh run does, when none is given', async () => {
    await writeRun();
    const { plan } = await resume({ meshctl: [], meshctlCurrent: undefined, pathEnv: bins });
    expect(plan.hops[0]!.steps.find((s) => s.kind === 'remove')!.commands[0]!.bin).toBe(bin17);
    expect(plan.binaries?.map((b) => b.path)).toEqual([bin17, bin20]);
  });

  it("never runs a program the journal names, even one of the user's named consistently everywhere (with its hash), not even `version`", async () => {
    await writeRun();
    await editJournal(bin20, evil);
    const evilHash = createHash('sha256')
      .update(await fs.readFile(evil))
      .digest('hex');
    await editJournal(
      createHash('sha256')
        .update(await fs.readFile(bin20))
        .digest('hex'),
      evilHash,
    );
    expect(await fs.readFile(path.join(dir, 'journal.ndjson'), 'utf8')).not.toContain(bin20);
    // The binaries given again: the 2.0.0 one is not the one the (edited) journal recorded.
    await expect(resume()).rejects.toThrow(
      new RegExp(
        `nginx-meshctl 2\\.0\\.0: the run used ${evil} \\(sha256 ${evilHash}\\); found now ${bin20} \\(sha256 [0-9a-f]{64}\\)`,
      ),
    );
    // None given, none on PATH: nothing found, nothing run.
    await expect(resume({ meshctl: [], meshctlCurrent: undefined, pathEnv: '' })).rejects.toThrow(
      /nginx-meshctl 2\.0\.0: the run used .*evil\.sh .*; none was found now/,
    );
    expect(ran.filter((r) => r.includes(evil))).toEqual([]);
    expect(ran.every((r) => r === `${bin17} version` || r === `${bin20} version`)).toBe(true);
  });

  it('refuses a binary that changed since the run (hash), naming both, and says what to pass', async () => {
    await writeRun();
    await fs.appendFile(bin17, '# updated\n');
    const err = await resume().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(
      /nginx-meshctl 1\.7\.0: the run used .*nginx-meshctl-1\.7\.0 \(sha256 [0-9a-f]{64}\); found now .*nginx-meshctl-1\.7\.0 \(sha256 [0-9a-f]{64}\)/,
    );
    expect((err as UsageError).hint).toMatch(/--meshctl, --meshctl-current, --helm, --chart/);
  });

  it('the chart: found as a fresh run finds it (--chart, or the default), never from the journal, and refused when it differs', async () => {
    const charts = await fs.mkdtemp(path.join(os.tmpdir(), 'resume-charts-'));
    await fs.mkdir(path.join(charts, '2.0.0'));
    await fs.writeFile(path.join(charts, '2.0.0', 'values.yaml'), 'a: 1\n');
    await writeRun({ inputs: { chart: { kind: 'versioned-dir', dir: charts } } });
    await expect(resume()).rejects.toThrow(
      new RegExp(
        `the chart: the run used ${charts} \\(sha256 [0-9a-f]{64}\\); given now: nginx-stable/nginx-service-mesh`,
      ),
    );
    await expect(resume({ chart: charts })).resolves.toBeDefined();
    await fs.writeFile(path.join(charts, '2.0.0', 'values.yaml'), 'a: 2\n');
    await expect(resume({ chart: charts })).rejects.toThrow(/the chart: the run used .*; its files changed since/);
  });

  it('helm: --helm, else helm on PATH, with the hash the run journaled', async () => {
    const helm = await program(path.join(bins, 'helm'), undefined);
    const other = await program(
      path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'resume-helm-')), 'helm'),
      undefined,
      '#!/bin/sh\n# another\n',
    );
    const deps3 = {
      ...deps,
      exec: {
        run: async (cmd: Command) => {
          ran.push(`${cmd.bin} ${cmd.args.join(' ')}`);
          return { exitCode: 0, stdout: 'v3.16.1+g5a5449d', stderr: '', skipped: false };
        },
      },
    } as unknown as Deps;
    await writeRun({
      install: { method: 'helm', release: 'nsm' },
      inputs: { meshctlBinaries: {}, helm: { bin: helm, major: 3 }, deployFlagChanges: {} },
    });
    const j = await readJournal(fs, dir);
    await expect(planForResume(deps3, j, { dir, pathEnv: bins })).resolves.toBeDefined();
    await expect(planForResume(deps3, j, { dir, helm: other })).rejects.toThrow(
      new RegExp(`helm: the run used ${helm} \\(sha256 [0-9a-f]{64}\\); found now ${other}`),
    );
    await expect(planForResume(deps3, j, { dir, pathEnv: '' })).rejects.toThrow(
      /helm: the run used .*; none was found now/,
    );
  });

  it('refuses a journaled plan that runs anything but the binaries it recorded; the same file found elsewhere is fine', async () => {
    await writeRun({
      mutate: (r) => {
        (r.plan as { hops: { steps: { kind: string; commands: { bin: string }[] }[] }[] }).hops[0]!.steps.find(
          (s) => s.kind === 'deploy',
        )!.commands[0]!.bin = evil;
      },
    });
    await expect(resume()).rejects.toThrow(
      /journaled plan is not the plan its own inputs give \(step hop1.deploy: .*evil\.sh/,
    );
    expect(ran.filter((r) => r.includes(evil))).toEqual([]);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'resume-'));
    await writeRun();
    const copy = await program(
      path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'resume-copy-')), 'nginx-meshctl'),
      '2.0.0',
      await fs.readFile(bin20, 'utf8'),
    );
    const { plan } = await resume({ meshctl: [copy] });
    expect(plan.hops[0]!.steps.find((s) => s.kind === 'deploy')!.commands[0]!.bin).toBe(copy);
  });

  it('refuses a journal whose plan runs another command (exit 2, nothing run)', async () => {
    await writeRun({
      mutate: (r) => {
        (r.plan as { hops: { steps: { kind: string; commands: { args: unknown[] }[] }[] }[] }).hops[0]!.steps.find(
          (s) => s.kind === 'deploy',
        )!.commands[0]!.args.push('--evil');
      },
    });
    await expect(resume()).rejects.toThrow(
      /journaled plan is not the plan its own inputs give \(step hop1.deploy: .*--evil/,
    );
  });

  it('refuses a journal that points outside its directory', async () => {
    await writeRun({
      mutate: (r) => {
        (r.inputs as { backupDir: string }).backupDir = '/etc';
      },
    });
    await expect(resume()).rejects.toThrow(/names another backup directory, \/etc/);
  });

  it('refuses a directory or journal others can write', async () => {
    await writeRun();
    await fs.chmod(dir, 0o777);
    await expect(resume()).rejects.toThrow(/backup directory .* is writable by anyone \(mode 777\)/);
    await fs.chmod(dir, 0o700);
    await fs.chmod(path.join(dir, 'journal.ndjson'), 0o620);
    await expect(resume()).rejects.toThrow(/journal .* is writable by its group/);
  });

  it('accepts the same --to, refuses a contradiction naming both values', async () => {
    await writeRun();
    await expect(resume({ to: 'v2.0' })).resolves.toBeDefined();
    await expect(resume({ to: '1.7.0' })).rejects.toThrow(
      '--to 1.7.0 contradicts the run being resumed, which has --to 2.0.0',
    );
    await expect(resume({ context: 'other' })).rejects.toThrow(
      '--context other contradicts the run being resumed, which has no --context',
    );
    await expect(resume({ deployFlag: ['registry-password=x', 'enable-udp=false'] })).rejects.toThrow(
      '--deploy-flag enable-udp=false contradicts the run being resumed, which has enable-udp=true',
    );
  });

  it('asks for a --deploy-flag credential again: it was never journaled', async () => {
    await writeRun();
    await expect(resume({ deployFlag: [] })).rejects.toThrow(
      /--deploy-flag registry-password=\.\.\., a credential, which is never written to the journal/,
    );
  });

  it("takes the install's settings from the verified backup, pinned by the journaled manifest hash, never from the journal alone", async () => {
    const plain = { mtls: { mode: 'strict' } }; // no credential: the journal holds the whole install
    await writeRun({ install: { values: plain } });
    // Consistent with its own manifest, but not the backup the run took (its manifest's hash is not the journaled one).
    await writeInstallBackup({ helmRelease: { values: plain } });
    await fs.appendFile(path.join(dir, 'hop1', 'manifest.json'), ' ');
    await expect(resume()).rejects.toThrow(
      /install's settings cannot be taken from the backup .*install.yaml: its manifest.json is not the one the run wrote/,
    );
  });

  it('refuses when the backup install.yaml does not match the journaled install', async () => {
    await writeRun();
    // The backup as the run took it (the journal's hash), edited without its manifest: fails verification.
    await fs.appendFile(path.join(dir, 'hop1', 'install.yaml'), '# edited\n');
    await expect(resume()).rejects.toThrow(
      /install's settings cannot be taken from .*install.yaml: backup .*sha256 .* does not match the manifest/,
    );
    // Another install, journaled as the backup the run took: it does not match the journal's install.
    const sha = await writeInstallBackup({ helmRelease: { values: { registry: { password: 'x' } } } });
    await appendJournal(fs, dir, {
      type: 'step',
      runId: 'r1',
      at: 't',
      step: 'hop1.backup',
      status: 'done',
      data: { manifestSha256: sha },
    });
    await expect(resume()).rejects.toThrow(
      /install's settings cannot be taken from .*install.yaml: they do not match the journal/,
    );
  });

  it('before the backup was journaled, reads the install from the cluster again, not from the journal', async () => {
    await writeRun({ backupDone: false });
    await expect(resume()).rejects.toThrow(
      /install's settings cannot be taken from the cluster \(the run stopped before its backup\): .*not reachable/,
    );
  });

  it('every refusal is a UsageError (exit 2)', async () => {
    await writeRun({
      mutate: (r) => {
        (r.inputs as { backupDir: string }).backupDir = '/etc';
      },
    });
    await expect(resume()).rejects.toBeInstanceOf(UsageError);
  });
});
