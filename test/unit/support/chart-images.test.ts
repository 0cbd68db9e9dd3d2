import { loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { imagesOfManifests, lenientYaml } from '../../cluster/chart-images.ts';

// The shapes `helm template` gives for the NSM charts (1.x and 2.0), cut down.
const flowArgs = [
  'kind: DaemonSet', 'spec:', '  template:', '    spec:', '      containers:', '      - name: spiffe-csi-driver',
  '        image: m/nsm/spiffe-csi-driver:0.2.1', '        args: [', '          "-csi-socket-path", "/spiffe-csi/csi.sock",', '        ]',
  '        env:', '          - name: A', '            value: "b"', '      initContainers:', '      - name: set-context', '        image: m/nsm/ubuntu:22.04', '',
].join('\n');
const meshConfig1x = JSON.stringify({ sidecarImage: { image: 'm/nsm/nginx-mesh-sidecar:1.7.0', name: 'nginx-mesh-sidecar' }, sidecarInitImage: { image: 'm/nsm/nginx-mesh-init:1.7.0' }, disablePublicImages: true });
const configMap1x = `kind: ConfigMap\nbinaryData:\n  mesh-config.json: "${Buffer.from(meshConfig1x).toString('base64')}"\n`;
const configMap20 = `kind: ConfigMap\ndata:\n  meshconfig.json: ${JSON.stringify(JSON.stringify({ imageTag: '2.0.0', sidecarImage: 'm/nsm/nginx-mesh-sidecar:2.0.0', sidecarInitImage: 'm/nsm/nginx-mesh-init:2.0.0' }, null, 2))}\n`;
const hookJob = 'kind: Job\nspec:\n  template:\n    spec:\n      containers:\n      - name: hook\n        image: m/nsm/kubectl\n';

describe('the images of rendered NSM charts (test bed registry)', () => {
  it('reads a flow sequence closed at its key\'s indentation, which js-yaml alone rejects', () => {
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
    expect(imagesOfManifests(stream)).toEqual(['m/nsm/kubectl', 'm/nsm/nginx-mesh-init:2.0.0', 'm/nsm/nginx-mesh-sidecar:2.0.0', 'm/nsm/spiffe-csi-driver:0.2.1', 'm/nsm/ubuntu:22.04']);
  });
});
