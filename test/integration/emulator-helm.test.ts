/**
 * `helm upgrade` of a release whose webhook configuration the emulator has given its caBundle (as
 * the real control plane does) must work, with Helm 3 (three-way merge patch) and Helm 4
 * (server-side apply), and keep that caBundle: the chart declares none, so neither touches it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kube } from '../../src/kube/client.ts';
import { collectionPath, core, objectPath } from '../../src/kube/paths.ts';
import { clusterEnv, kubeconfigPath, testKube, uniqueName } from '../support/cluster.ts';
import { eventually, stopEmulator, useEmulator, type EmulatorUnderTest } from './emulator-harness.ts';

const id = uniqueName('emuhelm');
const scopeLabel = { 'nsm-upgrade.test/emulator': id };
const chartDir = fs.mkdtempSync(path.join(os.tmpdir(), 'emu-helm-chart-'));
const admission = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';
let kube: Kube;
let emu: EmulatorUnderTest;

// A one-template chart written for this test: the injector configuration as the NSM charts
// register it (Service clientConfig), with its name and rules taken from values so an upgrade can
// change them as 1.x -> 2.0 does (nginx-mesh-api.* webhooks became nginx-mesh-controller.*).
function writeChart(): void {
  fs.mkdirSync(path.join(chartDir, 'templates'));
  fs.writeFileSync(path.join(chartDir, 'Chart.yaml'), 'apiVersion: v2\nname: emulator-helm-check\nversion: 0.1.0\n');
  fs.writeFileSync(
    path.join(chartDir, 'templates/injector.yaml'),
    [
      'apiVersion: admissionregistration.k8s.io/v1',
      'kind: MutatingWebhookConfiguration',
      'metadata:',
      '  name: a-{{ .Release.Name }}',
      `  labels: {nsm-upgrade.test/mesh-webhooks: "true", nsm-upgrade.test/emulator: ${id}}`,
      'webhooks:',
      '- name: {{ .Values.webhook }}',
      '  admissionReviewVersions: [v1]',
      '  sideEffects: None',
      '  failurePolicy: Fail',
      '  clientConfig: {service: {name: nginx-mesh-webhook, namespace: "{{ .Release.Namespace }}", path: /inject}}',
      `  namespaceSelector: {matchLabels: {nsm-upgrade.test/emulator: ${id}}}`,
      '  rules: [{apiGroups: [""], apiVersions: [v1], operations: [{{ .Values.operations }}], resources: [pods]}]',
      '',
    ].join('\n'),
  );
}

beforeAll(async () => {
  kube = await testKube();
  emu = await useEmulator(scopeLabel);
  writeChart();
  await kube.request({
    method: 'POST',
    path: collectionPath(core.namespaces),
    body: { metadata: { name: id, labels: scopeLabel } },
  });
});

afterAll(async () => {
  await kube?.request({ method: 'DELETE', path: objectPath(core.namespaces, id) }).catch(() => undefined);
  fs.rmSync(chartDir, { recursive: true, force: true });
  if (emu?.own) expect(await stopEmulator(emu)).toBe(0);
});

interface Hook {
  name: string;
  clientConfig: { url?: string; caBundle?: string; service?: unknown };
  rules: { operations: string[] }[];
}

describe('helm upgrade of a release whose webhooks carry the caBundle the emulator patched in', () => {
  for (const which of ['HELM3', 'HELM4'])
    it(`works with ${which}`, async (ctx) => {
      const helm = clusterEnv()[which];
      ctx.skip(
        !helm || !fs.existsSync(helm),
        `${which} is not in .cluster/env (the cluster scripts fetch Helm 3 and 4)`,
      );
      const release = `${id}-${which.toLowerCase()}`.slice(0, 53);
      const run = (args: string[]) =>
        execa(helm!, [...args, '--kubeconfig', kubeconfigPath(), '-n', id], { reject: false });
      const installed = await run([
        'install',
        release,
        chartDir,
        '--set',
        'operations=CREATE',
        '--set',
        'webhook=nginx-mesh-api.sidecar.injector',
      ]);
      expect(installed.exitCode, installed.stderr).toBe(0);
      const cfgPath = `${admission}/a-${release}`;
      const hooks = async () => (await kube.request<{ webhooks: Hook[] }>({ path: cfgPath })).webhooks;
      try {
        const caBundle = Buffer.from(emu.caPem).toString('base64');
        await eventually('the caBundle patched in', async () =>
          (await hooks()).every((h) => h.clientConfig.caBundle === caBundle) ? true : undefined,
        );
        const upgraded = await run([
          'upgrade',
          release,
          chartDir,
          '--set',
          'operations=CREATE\\,UPDATE',
          '--set',
          'webhook=nginx-mesh-controller.sidecar.injector',
        ]);
        expect(upgraded.exitCode, upgraded.stderr).toBe(0);
        const after = await eventually('the renamed webhook with the new rules and the caBundle', async () => {
          const h = await hooks();
          return h.length === 1 && h[0]!.clientConfig.caBundle === caBundle && h[0]!.rules[0]!.operations.length === 2
            ? h[0]
            : undefined;
        });
        expect(after.name).toBe('nginx-mesh-controller.sidecar.injector');
        expect(after.clientConfig).toEqual({
          service: { name: 'nginx-mesh-webhook', namespace: id, path: '/inject', port: 443 },
          caBundle,
        });
      } finally {
        await run(['uninstall', release]);
      }
    });
});
