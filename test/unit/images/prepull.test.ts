import { describe, expect, it } from 'vitest';
import { prepullDaemonSet, prepullImages, pullState } from '../../../src/preflight/prepull.ts';

const images = ['m/nsm/nginx-mesh-controller:2.0.0', 'm/nsm/nginx-mesh-sidecar:2.0.0'];
const pod = (node: string, states: Record<string, unknown>[]) => ({
  spec: { nodeName: node },
  status: { containerStatuses: states.map((state, i) => ({ name: `image-${i}`, image: images[i]!, state })) },
});

describe('--prepull', () => {
  it("pulls the control-plane and injected images of every hop, not the hooks'", () => {
    const lists = [
      {
        images: [
          { image: 'm/kubectl', uses: ['Job/x (hook pre-delete)'] },
          { image: images[1]!, uses: ['injected sidecar (ConfigMap/meshconfig)'] },
        ],
      },
      {
        images: [
          { image: images[0]!, uses: ['Deployment/nginx-mesh-controller'] },
          { image: images[1]!, uses: ['injected sidecar (ConfigMap/meshconfig)'] },
        ],
      },
    ];
    expect(prepullImages(lists)).toEqual(images);
  });

  it('a DaemonSet on every linux node, every taint tolerated, one container per image, with the pull secret', () => {
    const ds = prepullDaemonSet('nginx-mesh', images, 'nsm-upgrade-prepull-pull-secret') as {
      spec: { template: { spec: Record<string, unknown> & { containers: { image: string }[] } } };
    };
    const spec = ds.spec.template.spec;
    expect(spec.containers.map((c) => c.image)).toEqual(images);
    expect(spec.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(spec.imagePullSecrets).toEqual([{ name: 'nsm-upgrade-prepull-pull-secret' }]);
    expect((prepullDaemonSet('n', images, undefined) as typeof ds).spec.template.spec.imagePullSecrets).toBeUndefined();
  });

  it('judges each node: pulled once a container runs, stopped or failed to start; a pull error names the image', () => {
    expect(pullState(pod('a', [{ running: {} }, { waiting: { reason: 'CrashLoopBackOff' } }]), images)).toEqual({
      node: 'a',
      failed: [],
      done: true,
    });
    expect(pullState(pod('b', [{ running: {} }, { waiting: { reason: 'ContainerCreating' } }]), images)).toEqual({
      node: 'b',
      failed: [],
      done: false,
    });
    expect(
      pullState(
        pod('c', [
          { running: {} },
          {
            waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "m/nsm/nginx-mesh-sidecar:2.0.0"' },
          },
        ]),
        images,
      ),
    ).toEqual({
      node: 'c',
      failed: [
        { image: images[1], reason: 'ImagePullBackOff: Back-off pulling image "m/nsm/nginx-mesh-sidecar:2.0.0"' },
      ],
      done: false,
    });
    expect(pullState({ spec: { nodeName: 'd' }, status: {} }, images).done).toBe(false);
  });
});
