import { describe, expect, it } from 'vitest';
import { answerReview, type MeshView } from '../../emulator/admission.ts';
import { defaultInjectionConfig } from '../../emulator/inject.ts';
import type { ControlPlane } from '../../emulator/control-plane.ts';

const planes: ControlPlane[] = [
  { namespace: 'mesh-a', deployment: 'nginx-mesh-api', registry: 'r', version: '1.6.0', major: 1, ready: true },
  { namespace: 'mesh-b', deployment: 'nginx-mesh-controller', registry: 'r', version: '2.0.0', major: 2, ready: true },
];
const view: MeshView = {
  controlPlane: (ns) => (ns ? planes.find((p) => p.namespace === ns) : planes[0]),
  namespaceLabels: (ns): Record<string, string> =>
    ns === 'opted-in' ? { 'injector.nsm.nginx.com/auto-inject': 'enabled' } : {},
  injectionConfig: () => defaultInjectionConfig,
};
const podReview = (namespace: string) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: 'u-1',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    namespace,
    operation: 'CREATE',
    object: { metadata: { name: 'p' }, spec: { containers: [{ name: 'app' }] } },
  },
});
const patchOf = (r: { response?: Record<string, unknown> }) =>
  JSON.parse(Buffer.from(String(r.response?.patch), 'base64').toString()) as { path: string; value: unknown }[];

describe('answerReview', () => {
  it('injects with the version of the mesh named in the path', () => {
    const lines: string[] = [];
    const r = answerReview('/inject', podReview('apps'), view, (l) => lines.push(l), 'mesh-a');
    expect(r.response).toMatchObject({ uid: 'u-1', allowed: true, patchType: 'JSONPatch' });
    expect(patchOf(r).find((o) => o.path === '/spec/containers/-')?.value).toMatchObject({
      image: 'r/nginx-mesh-sidecar:1.6.0',
    });
    expect(lines).toEqual(['injected pod apps/p with version 1.6.0 (mesh mesh-a; 1.x injects by default)']);
  });
  it('2.0 allows without a patch where the namespace did not opt in, and injects where it did', () => {
    expect(answerReview('/inject', podReview('apps'), view, () => {}, 'mesh-b').response?.patch).toBeUndefined();
    expect(patchOf(answerReview('/inject', podReview('opted-in'), view, () => {}, 'mesh-b')).length).toBe(4);
  });
  it('refuses like a mesh that is down when its control plane is gone or not ready', () => {
    const r = answerReview('/inject', podReview('apps'), view, () => {}, 'gone');
    expect(r.response).toMatchObject({ allowed: false, status: { code: 503 } });
    const notReady: MeshView = {
      ...view,
      controlPlane: (ns) => ({ ...planes.find((p) => p.namespace === ns)!, ready: false }),
    };
    expect(answerReview('/inject', podReview('apps'), notReady, () => {}, 'mesh-a').response).toMatchObject({
      allowed: false,
      status: {
        code: 503,
        message: 'NGINX Service Mesh is not ready: nginx-mesh-api in namespace mesh-a has no ready pod',
      },
    });
    const del = { uid: 'u-9', kind: { kind: 'TrafficSplit' }, operation: 'DELETE' };
    expect(answerReview('/validate', { request: del }, notReady, () => {}, 'mesh-a').response).toMatchObject({
      allowed: false,
      status: { code: 503 },
    });
    expect(answerReview('/validate', { request: del }, view, () => {}, 'mesh-a').response).toMatchObject({
      allowed: true,
    });
  });
  it('validates policies and allows SPIFFE registrar calls', () => {
    const ts = {
      uid: 'u-2',
      kind: { kind: 'TrafficSplit' },
      operation: 'CREATE',
      object: { kind: 'TrafficSplit', metadata: { name: 't' }, spec: { backends: [] } },
    };
    expect(
      answerReview('/validate', { apiVersion: 'admission.k8s.io/v1', request: ts }, view, () => {}, 'mesh-a').response,
    ).toMatchObject({ allowed: false, status: { code: 422 } });
    expect(
      answerReview(
        '/validate-spiffeid-spiffe-io-v1beta1-spiffeid',
        { request: { uid: 'u-3', operation: 'CREATE' } },
        view,
        () => {},
        'mesh-a',
      ).response,
    ).toMatchObject({ allowed: true });
  });
  it('answers a malformed review with an error instead of throwing', () => {
    expect(answerReview('/inject', {}, view, () => {}).response).toMatchObject({
      allowed: false,
      status: { code: 400 },
    });
    const broken: MeshView = {
      ...view,
      namespaceLabels: () => {
        throw new Error('boom');
      },
    };
    const lines: string[] = [];
    expect(answerReview('/inject', podReview('apps'), broken, (l) => lines.push(l)).response).toMatchObject({
      allowed: false,
      status: { code: 500, message: 'mesh emulator error: boom' },
    });
    expect(lines[0]).toMatch(/^error: admission \/inject uid u-1 failed/);
  });
});
