import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dump } from 'js-yaml';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Deps } from '../../../src/deps.ts';
import { UsageError } from '../../../src/errors.ts';
import { markSecrets, Secret } from '../../../src/secret.ts';
import { appendJournal, journalSchemaVersion, readJournal } from '../../../src/upgrade/journal.ts';
import { buildPlan } from '../../../src/upgrade/plan.ts';
import { planForResume } from '../../../src/upgrade/resume.ts';
import type { Install, PlanOptions } from '../../../src/upgrade/types.ts';

const password = 'resume-pa55word';
const rawValues = { registry: { server: 'mirror.example/nsm', username: 'robot', password }, mtls: { mode: 'strict' } };

let dir: string;
let bin: string;
/** No command may run while a resume is checked: every exec fails the test. */
const deps = { fs, exec: { run: () => { throw new Error('a resume check ran a command'); } } } as unknown as Deps;

async function writeRun(over: { inputs?: Partial<PlanOptions>; mutate?: (record: Record<string, unknown>) => void } = {}): Promise<void> {
  const install: Install = {
    namespace: 'nginx-mesh', version: '1.7.0', method: 'meshctl', release: 'nginx-service-mesh', releaseRevision: 1, releaseStatus: 'deployed', releaseStuck: false,
    chartVersion: '0.7.0', environment: 'kubernetes', values: markSecrets(rawValues), controlPlane: { deployment: 'nginx-mesh-api', image: 'r/nginx-mesh-api:1.7.0' }, warnings: [],
  };
  const inputs: PlanOptions = {
    to: '2.0.0', strategy: 'manual', meshctlBinaries: { '1.7.0': bin, '2.0.0': bin }, helm: undefined, chart: { kind: 'repo', ref: 'nginx-stable/nginx-service-mesh' },
    deployFlagChanges: { 'registry-password': new Secret('new-pa55word', 'registry-password'), 'enable-udp': 'true' }, labelNamespaces: false, unlabelledInjectedNamespaces: [], backupDir: dir, timeout: '5m', ...over.inputs,
  };
  const plan = buildPlan(install, inputs);
  const record: Record<string, unknown> = JSON.parse(JSON.stringify({ type: 'run', schema: journalSchemaVersion, runId: 'r1', at: 't', toolVersion: 'x', install, inputs, cluster: { server: 'https://k', uid: 'u' }, plan }));
  over.mutate?.(record);
  await appendJournal(fs, dir, record as never);
  await fs.mkdir(path.join(dir, 'hop1'), { recursive: true, mode: 0o700 });
  await writeInstallBackup({ helmRelease: { values: rawValues } });
}

/** hop1/ as a backup holding only install.yaml, with a manifest that lists it (what verifyBackup checks). */
async function writeInstallBackup(install: unknown): Promise<void> {
  const text = dump(install);
  const manifest = { formatVersion: 1, toolVersion: 'x', context: 'c', server: 's', meshVersion: '1.7.0', createdAt: 't', namespace: null, absent: [], discoveryFailures: [],
    files: [{ path: 'install.yaml', kind: 'InstallConfig', count: 1, sha256: createHash('sha256').update(text).digest('hex') }] };
  await fs.writeFile(path.join(dir, 'hop1', 'install.yaml'), text, { mode: 0o600 });
  await fs.writeFile(path.join(dir, 'hop1', 'manifest.json'), JSON.stringify(manifest), { mode: 0o600 });
}

const resume = async (args: Record<string, unknown> = {}) => planForResume(deps, await readJournal(fs, dir), { dir, deployFlag: ['registry-password=new-pa55word'], ...args });

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'resume-'));
  bin = path.join(dir, '..', `${path.basename(dir)}-meshctl`);
  await fs.writeFile(bin, '#!/bin/sh\n', { mode: 0o755 });
});

describe('--resume DIR trusts nothing it reads from DIR', () => {
  it('builds the same plan again, with the credentials from the backup and --deploy-flag, none from the journal', async () => {
    await writeRun();
    expect(await fs.readFile(path.join(dir, 'journal.ndjson'), 'utf8')).not.toContain(password);
    const { plan } = await resume({ to: '2.0.0' });
    const deploy = plan.hops[0]!.steps.find((s) => s.kind === 'deploy')!.commands[0]!;
    const secrets = deploy.args.filter((a): a is Secret => a instanceof Secret).map((s) => s.reveal());
    expect(secrets).toEqual(['new-pa55word']); // the --deploy-flag given again overrides the release value
    expect(deploy.bin).toBe(bin);
  });
  it('refuses a journal whose plan runs another command (exit 2, nothing run)', async () => {
    await writeRun({ mutate: (r) => { ((r.plan as { hops: { steps: { kind: string; commands: { bin: string }[] }[] }[] }).hops[0]!.steps.find((s) => s.kind === 'deploy')!.commands[0]!).bin = '/tmp/evil'; } });
    await expect(resume()).rejects.toThrow(/journaled plan is not the plan its own inputs give \(step hop1.deploy: .*\/tmp\/evil/);
  });
  it('refuses a journal that points outside its directory', async () => {
    await writeRun({ mutate: (r) => { (r.inputs as { backupDir: string }).backupDir = '/etc'; } });
    await expect(resume()).rejects.toThrow(/names another backup directory, \/etc/);
  });
  it('refuses a directory or journal others can write, and a journaled binary others can write', async () => {
    await writeRun();
    await fs.chmod(dir, 0o777);
    await expect(resume()).rejects.toThrow(/backup directory .* is writable by anyone \(mode 777\)/);
    await fs.chmod(dir, 0o700);
    await fs.chmod(path.join(dir, 'journal.ndjson'), 0o620);
    await expect(resume()).rejects.toThrow(/journal .* is writable by its group/);
    await fs.chmod(path.join(dir, 'journal.ndjson'), 0o600);
    await fs.chmod(bin, 0o777);
    await expect(resume()).rejects.toThrow(/the journal names binary .* writable by anyone[\s\S]*/);
    await expect(resume()).rejects.toMatchObject({ hint: expect.stringMatching(/Pass the binaries again on the command line/) });
  });
  it('accepts the same --to, refuses a contradiction naming both values', async () => {
    await writeRun();
    await expect(resume({ to: 'v2.0' })).resolves.toBeDefined();
    await expect(resume({ to: '1.7.0' })).rejects.toThrow('--to 1.7.0 contradicts the run being resumed, which has --to 2.0.0');
    await expect(resume({ context: 'other' })).rejects.toThrow('--context other contradicts the run being resumed, which has no --context');
    await expect(resume({ deployFlag: ['registry-password=x', 'enable-udp=false'] })).rejects.toThrow('--deploy-flag enable-udp=false contradicts the run being resumed, which has enable-udp=true');
  });
  it('asks for a --deploy-flag credential again: it was never journaled', async () => {
    await writeRun();
    await expect(resume({ deployFlag: [] })).rejects.toThrow(/--deploy-flag registry-password=\.\.\., a credential, which is never written to the journal/);
  });
  it('refuses when the backup install.yaml does not match the journaled install', async () => {
    await writeRun();
    // Consistent with its manifest, but not the install the journal recorded.
    await writeInstallBackup({ helmRelease: { values: { registry: { password: 'x' } } } });
    await expect(resume()).rejects.toThrow(/credentials cannot be taken from .*install.yaml/);
    // The right install, then edited without its manifest: fails verification.
    await writeInstallBackup({ helmRelease: { values: rawValues } });
    await fs.appendFile(path.join(dir, 'hop1', 'install.yaml'), '# edited\n');
    await expect(resume()).rejects.toThrow(/credentials cannot be taken from .*install.yaml: the backup is missing, fails verification/);
  });
  it('every refusal is a UsageError (exit 2)', async () => {
    await writeRun({ mutate: (r) => { (r.inputs as { backupDir: string }).backupDir = '/etc'; } });
    await expect(resume()).rejects.toBeInstanceOf(UsageError);
  });
});
