import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulatorPki, startWebhookServer, type EmulatorPki, type WebhookServer } from '../../emulator/server.ts';
import { defaultInjectionConfig } from '../../emulator/inject.ts';
import type { MeshView } from '../../emulator/admission.ts';

// The webhook server on loopback with a certificate made by openssl, as the API server sees it.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emu-server-test-'));
const view: MeshView = {
  controlPlane: () => ({
    namespace: 'nginx-mesh',
    deployment: 'nginx-mesh-api',
    registry: 'r',
    version: '1.6.0',
    major: 1,
    ready: true,
  }),
  namespaceLabels: () => ({}),
  injectionConfig: () => defaultInjectionConfig,
};
let pki: EmulatorPki;
let server: WebhookServer;
const lines: string[] = [];

function post(
  pathname: string,
  body: string,
  host = '127.0.0.1',
): Promise<{ status: number; json: Record<string, any> }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host,
        port: server.port,
        path: pathname,
        method: 'POST',
        ca: pki.caPem,
        headers: { 'Content-Type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, any> }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  pki = await createEmulatorPki(dir);
  server = await startWebhookServer(pki, view, (l) => lines.push(l));
});
afterAll(async () => {
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('webhook server', () => {
  it('keeps its CA and keys in <state-dir>/emulator-pki, keys private', () => {
    expect(fs.statSync(path.join(dir, 'emulator-pki/server.key')).mode & 0o077).toBe(0);
    expect(pki.caPem).toContain('BEGIN CERTIFICATE');
  });

  it('answers over TLS trusted through its CA, for 127.0.0.1 and localhost', async () => {
    const review = JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'u',
        kind: { kind: 'Pod' },
        namespace: 'apps',
        operation: 'CREATE',
        object: { metadata: { name: 'p' }, spec: { containers: [{ name: 'a' }] } },
      },
    });
    for (const host of ['127.0.0.1', 'localhost']) {
      const r = await post('/mesh/nginx-mesh/inject', review, host);
      expect(r.status).toBe(200);
      expect(r.json.response).toMatchObject({ uid: 'u', allowed: true, patchType: 'JSONPatch' });
    }
  });

  it('answers a body that is not JSON with an AdmissionReview error, and keeps serving', async () => {
    const bad = await post('/inject', '{not json');
    expect(bad.status).toBe(400);
    expect(bad.json.response).toMatchObject({ allowed: false, status: { code: 400 } });
    expect(lines.some((l) => l.startsWith('error: /inject: body is not JSON'))).toBe(true);
    const good = await post('/validate', JSON.stringify({ request: { uid: 'v', operation: 'DELETE' } }));
    expect(good.json.response).toMatchObject({ uid: 'v', allowed: true });
  });
});
