import { loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { imageRole, imagesOfManifests as uses, lenientYaml, mergeImages } from '../../../src/images/manifest-images.ts';

const imagesOfManifests = (text: string) => uses(text).map((u) => u.image);

// The shapes `helm template` gives for the NSM charts (1.x and 2.0), cut down.
const flowArgs = [
  'kind: DaemonSet',
  'metadata:',
  '  name: spiffe-csi-driver',
  'spec:',
  '  template:',
  '    spec:',
  '      containers:',
  '      - name: spiffe-csi-driver',
  '        image: m/nsm/spiffe-csi-driver:0.2.1',
  '        args: [',
  '          "-csi-socket-path", "/spiffe-csi/csi.sock",',
  '        ]',
  '        env:',
  '          - name: A',
  '            value: "b"',
  '      initContainers:',
  '      - name: set-context',
  '        image: m/nsm/ubuntu:22.04',
  '',
].join('\n');
const meshConfig1x = JSON.stringify({
  sidecarImage: { image: 'm/nsm/nginx-mesh-sidecar:1.7.0', name: 'nginx-mesh-sidecar' },
  sidecarInitImage: { image: 'm/nsm/nginx-mesh-init:1.7.0' },
  disablePublicImages: true,
});
const configMap1x = `kind: ConfigMap\nbinaryData:\n  mesh-config.json: "${Buffer.from(meshConfig1x).toString('base64')}"\n`;
const configMap20 = `kind: ConfigMap\ndata:\n  meshconfig.json: ${JSON.stringify(JSON.stringify({ imageTag: '2.0.0', sidecarImage: 'm/nsm/nginx-mesh-sidecar:2.0.0', sidecarInitImage: 'm/nsm/nginx-mesh-init:2.0.0' }, null, 2))}\n`;
const hookJob =
  'kind: Job\nmetadata:\n  name: remove-spiffeids\n  annotations:\n    helm.sh/hook: post-delete\nspec:\n  template:\n    spec:\n      containers:\n      - name: hook\n        image: m/nsm/kubectl\n';

describe('the images of rendered NSM charts', () => {
  it("reads a flow sequence closed at its key's indentation, which js-yaml alone rejects", () => {
    expect(() => loadAll(flowArgs)).toThrow(/indentation/);
    expect(imagesOfManifests(flowArgs)).toEqual(['m/nsm/spiffe-csi-driver:0.2.1', 'm/nsm/ubuntu:22.04']);
  });

  it('changes only whitespace before a lone closing bracket', () => {
    expect(lenientYaml('a: [\n  1,\n]\nb: {\n}\n')).toBe('a: [\n  1,\n  ]\nb: {\n  }\n');
    expect(lenientYaml('image: x\n')).toBe('image: x\n');
  });

  it('finds the sidecar and init images of the mesh config: 1.x base64 in binaryData, 2.0 JSON in data', () => {
    expect(imagesOfManifests(configMap1x)).toEqual(['m/nsm/nginx-mesh-init:1.7.0', 'm/nsm/nginx-mesh-sidecar:1.7.0']);
    expect(imagesOfManifests(configMap20)).toEqual(['m/nsm/nginx-mesh-init:2.0.0', 'm/nsm/nginx-mesh-sidecar:2.0.0']);
  });

  it('takes every document of the stream, hooks included, each image once', () => {
    const stream = [flowArgs, configMap20, hookJob, hookJob].join('---\n');
    expect(imagesOfManifests(stream)).toEqual([
      'm/nsm/kubectl',
      'm/nsm/nginx-mesh-init:2.0.0',
      'm/nsm/nginx-mesh-sidecar:2.0.0',
      'm/nsm/spiffe-csi-driver:0.2.1',
      'm/nsm/ubuntu:22.04',
    ]);
  });

  it('says where each image is used, and what for: control plane, injected sidecar, hook', () => {
    const stream = [
      flowArgs,
      configMap1x.replace('kind: ConfigMap', 'kind: ConfigMap\nmetadata:\n  name: mesh-config'),
      hookJob,
    ].join('---\n');
    const found = uses(stream);
    expect(found.map((u) => [u.image, u.uses, imageRole(u)])).toEqual([
      ['m/nsm/kubectl', ['Job/remove-spiffeids (hook post-delete)'], 'hook'],
      ['m/nsm/nginx-mesh-init:1.7.0', ['injected sidecar (ConfigMap/mesh-config)'], 'injected'],
      ['m/nsm/nginx-mesh-sidecar:1.7.0', ['injected sidecar (ConfigMap/mesh-config)'], 'injected'],
      ['m/nsm/spiffe-csi-driver:0.2.1', ['DaemonSet/spiffe-csi-driver'], 'control-plane'],
      ['m/nsm/ubuntu:22.04', ['DaemonSet/spiffe-csi-driver'], 'control-plane'],
    ]);
    expect(mergeImages(found.slice(0, 1), [{ image: 'm/nsm/kubectl', uses: ['Job/other'] }])).toEqual([
      { image: 'm/nsm/kubectl', uses: ['Job/other', 'Job/remove-spiffeids (hook post-delete)'] },
    ]);
  });

  it('never reads a Secret (a registry key holds a credential, no image)', () => {
    const key = Buffer.from(JSON.stringify({ auths: { r: { image: 'not/an-image' } } })).toString('base64');
    expect(imagesOfManifests(`kind: Secret\ndata:\n  .dockerconfigjson: ${key}\n`)).toEqual([]);
  });
});
