import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { filesWith, impersonateInJournal, runWatchingPs, tamperJournal } from '../support/password-watch.ts';
import { clusterEnv, runTool } from '../support/cluster.ts';
import { chartsDir } from '../support/mesh-scenario.ts';
import {
  expectConverged,
  setUpMesh,
  toolArgs,
  type Scenario,
  type ScenarioOptions,
} from '../support/upgrade-scenario.ts';
import { installedNow } from '../../src/mesh/live-state.ts';
import { revealDeep } from '../../src/secret.ts';

// Issue 14, "secrets stay secret": a mesh installed with a private registry's credentials is
// upgraded by remove-and-redeploy. The password must reach the redeployed mesh, and nothing the
// tool prints (stdout, stderr with -v), journals, or puts on a command line seen by `ps` may hold
// it. The one exception is the vendor's: nginx-meshctl deploy takes it only as a flag.
const password = `Pw-${Date.now().toString(36)}-s3cret`;
let current: Scenario | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

async function expectCredentialsKept(s: Scenario): Promise<void> {
  const now = await installedNow({ kube: s.kube } as never, s.meshNamespace, undefined);
  expect(
    (revealDeep(now?.values) as { registry?: { password?: string } } | undefined)?.registry?.password === password,
  ).toBe(true);
  // The real charts render the pull secret from the values: it must hold the same password.
  const secret = await s.kube
    .request<{ data?: Record<string, string> }>({
      path: `/api/v1/namespaces/${s.meshNamespace}/secrets/nginx-mesh-registry-key`,
    })
    .catch(() => undefined);
  if (secret?.data?.['.dockerconfigjson'])
    expect(Buffer.from(secret.data['.dockerconfigjson'], 'base64').toString().includes(password)).toBe(true);
}

describe('a registry password through a remove-and-redeploy upgrade', () => {
  it('helm: only in the 0600 values file and the backup; never in output, journal or any command line; a changed journal is refused', async () => {
    const o: ScenarioOptions & { to: string } = {
      method: 'helm',
      from: '1.6.0',
      to: '1.7.0',
      helmSet: { 'registry.username': 'robot', 'registry.password': password },
    };
    current = await setUpMesh(o);
    const r = await runWatchingPs(password, toolArgs(current, o, ['--strategy', 'manual', '-v']));
    expect(r.exitCode, r.all.slice(-3000)).toBe(0);
    expect(r.all).not.toContain(password);
    expect(r.psHits).toEqual([]);
    expect(filesWith(password, current.backupDir)).toEqual([
      { file: 'hop1/install.yaml', mode: '600' },
      { file: 'hop1/values-1.7.0.yaml', mode: '600' },
    ]);
    await expectConverged(current, '1.7.0');
    await expectCredentialsKept(current);

    // A journal edited to run another program for the deploy: --resume refuses (exit 2) and runs nothing.
    const journal = path.join(current.backupDir, 'journal.ndjson');
    const intact = fs.readFileSync(journal, 'utf8');
    const { marker, lines } = tamperJournal(journal, 'run', ['hop1.backup', 'hop1.remove', 'hop1.delete-crds']);
    const resumed = await runTool(['--resume', current.backupDir, '--yes', ...current.binaryArgs]);
    expect(resumed.exitCode, resumed.stderr).toBe(2);
    expect(resumed.stderr).toMatch(/journaled plan is not the plan its own inputs give \(step hop1\.deploy/);
    expect(fs.existsSync(marker)).toBe(false);
    expect(fs.readFileSync(journal, 'utf8').trim().split('\n')).toHaveLength(lines);

    // Edited consistently (helm named as a program of the user's everywhere, with its hash): that program never runs, not even `version`.
    fs.writeFileSync(
      journal,
      intact
        .split('\n')
        .filter((l) => !/"type":"(finished|step)"/.test(l) || /"step":"hop1\.(backup|remove|delete-crds)"/.test(l))
        .join('\n'),
      { mode: 0o600 },
    );
    const helm = clusterEnv().HELM3!;
    const { marker: ran, impostor } = impersonateInJournal(journal, helm, 'v3.16.1+g5a5449d');
    expect(fs.readFileSync(journal, 'utf8')).not.toContain(helm);
    const given = await runTool(['--resume', current.backupDir, '--yes', ...current.binaryArgs]);
    expect(given.exitCode, given.stderr).toBe(2);
    expect(given.stderr).toContain(`helm: the run used ${impostor} (sha256`);
    expect(given.stderr).toContain(`found now ${helm} (sha256`);
    const none = await runTool(['--resume', current.backupDir, '--yes', '--chart', chartsDir], {
      env: { PATH: '/usr/bin:/bin' },
    });
    expect(none.exitCode, none.stderr).toBe(2);
    expect(none.stderr).toMatch(/helm: the run used .*impostor .*none was found now/);
    expect(fs.existsSync(ran), fs.existsSync(ran) ? fs.readFileSync(ran, 'utf8') : '').toBe(false);
  });

  it("nginx-meshctl: carried to the redeploy; only nginx-meshctl deploy's own command line holds it", async () => {
    const o: ScenarioOptions & { to: string } = {
      method: 'meshctl',
      from: '1.6.0',
      to: '1.7.0',
      deployFlags: ['--registry-username', 'robot', '--registry-password', password],
    };
    current = await setUpMesh(o);
    const r = await runWatchingPs(password, toolArgs(current, o, ['--strategy', 'manual', '-v']));
    expect(r.exitCode, r.all.slice(-3000)).toBe(0);
    expect(r.all).not.toContain(password);
    expect(r.all).toMatch(/--registry-password <redacted>/);
    expect(
      r.psHits.length > 0 &&
        r.psHits.every((l) =>
          / deploy (--dry-run --cleanup-on-error=false )?--registry-username robot --registry-password <PW>/.test(l),
        ),
      r.psHits.join('\n'),
    ).toBe(true);
    expect(filesWith(password, current.backupDir)).toEqual([{ file: 'hop1/install.yaml', mode: '600' }]);
    await expectConverged(current, '1.7.0');
    await expectCredentialsKept(current);
  });
});

// Issue 23: the upstream CA's credentials the charts hold beyond the registry's (a Vault AppRole
// SecretID, an AWS secret access key, cert-manager's kubeconfig) were not classified secret, so the
// plan, its JSON, the journal's install values and settings.json printed them.
describe('upstream CA credentials of the chart values through a remove-and-redeploy upgrade', () => {
  const stamp = Date.now().toString(36);
  // The real charts' schema takes exactly one upstream authority (a oneOf), with its required fields: Vault
  // with AppRole, whose secret ID the tool once printed. The other authorities' credentials are classified
  // from every chart's values by test/unit/core/chart-credentials.test.ts.
  const credentials = {
    'mtls.upstreamAuthority.vault.approleAuth.approleSecretID': `approle-sid-${stamp}`,
  };
  const vaultRequired = {
    'mtls.upstreamAuthority.vault.vaultAddr': 'https://vault.invalid:8200',
    'mtls.upstreamAuthority.vault.namespace': 'nsm',
    'mtls.upstreamAuthority.vault.caCert': `ca-cert-${stamp}`,
  };
  const values = Object.values(credentials);
  const leaked = (text: string) => values.filter((v) => text.includes(v));

  it("helm: none in plan text, plan -o json, the run's output, the journal or settings.json; kept for the redeploy", async () => {
    const o: ScenarioOptions & { to: string } = {
      method: 'helm',
      from: '1.6.0',
      to: '1.7.0',
      helmSet: {
        ...credentials,
        ...vaultRequired,
        'mtls.upstreamAuthority.vault.approleAuth.approleID': `role-${stamp}`,
      },
    };
    current = await setUpMesh(o);
    const planArgs = toolArgs(current, o, ['--strategy', 'manual']).filter((a) => a !== '--yes');
    const text = await runTool(['plan', ...planArgs]);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(leaked(text.stdout + text.stderr)).toEqual([]);
    expect(text.stdout + text.stderr).toContain(`role-${stamp}`); // an identifier, not a credential: shown
    const json = await runTool(['plan', '-o', 'json', ...planArgs]);
    expect(json.exitCode, json.stderr).toBe(0);
    expect(leaked(json.stdout + json.stderr)).toEqual([]);
    expect(json.stdout).toContain('<redacted>');

    const r = await runTool(toolArgs(current, o, ['--strategy', 'manual', '-v']), {
      env: { NSM_CHARTS_DIR: chartsDir },
    });
    expect(r.exitCode, r.stderr.slice(-3000)).toBe(0);
    expect(leaked(r.stdout + r.stderr)).toEqual([]);
    const journal = fs.readFileSync(path.join(current.backupDir, 'journal.ndjson'), 'utf8');
    expect(leaked(journal)).toEqual([]);
    expect(journal).toContain('<redacted>');
    const settings = fs.readFileSync(path.join(current.backupDir, 'hop1', 'settings.json'), 'utf8');
    expect(leaked(settings)).toEqual([]);
    // Only the 0600 files a child reads or the backup keeps hold them.
    for (const v of values)
      expect(filesWith(v, current.backupDir)).toEqual([
        { file: 'hop1/install.yaml', mode: '600' },
        { file: 'hop1/values-1.7.0.yaml', mode: '600' },
      ]);
    const now = await installedNow({ kube: current.kube } as never, current.meshNamespace, undefined);
    const carried = revealDeep(now?.values) as {
      mtls?: { upstreamAuthority?: { vault?: { approleAuth?: { approleSecretID?: string } } } };
    };
    expect(carried.mtls?.upstreamAuthority?.vault?.approleAuth?.approleSecretID).toBe(
      credentials['mtls.upstreamAuthority.vault.approleAuth.approleSecretID'],
    );
  });
});
