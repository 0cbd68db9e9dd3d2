import { describe, expect, it } from 'vitest';
import {
  buildInjectionPatch,
  decideInjection,
  defaultInjectionConfig,
  injectionConfigOf,
  parseMeshConfigJson,
  pointerKey,
  type InjectionInput,
} from '../../emulator/inject.ts';
import { meshJobNames } from '../../emulator/hook-scripts.ts';
import type { ControlPlane } from '../../emulator/control-plane.ts';

const v1: ControlPlane = {
  namespace: 'nginx-mesh',
  deployment: 'nginx-mesh-api',
  registry: 'reg.example/nsm',
  version: '1.6.0',
  major: 1,
  ready: true,
};
const v2: ControlPlane = { ...v1, deployment: 'nginx-mesh-controller', version: '2.0.0', major: 2, ready: true };

function input(
  over: Partial<InjectionInput> & { podLabels?: Record<string, string>; podAnnotations?: Record<string, string> } = {},
): InjectionInput {
  return {
    pod: {
      metadata: { name: 'p', labels: over.podLabels ?? {}, annotations: over.podAnnotations ?? {} },
      spec: { containers: [{ name: 'app' }] },
    },
    namespace: 'apps',
    namespaceLabels: {},
    mesh: v1,
    config: defaultInjectionConfig,
    meshJobNames,
    ...over,
  };
}

describe('decideInjection', () => {
  // [case, input, expected inject, why]
  const table: [string, InjectionInput, boolean][] = [
    ['1.x injects by default', input(), true],
    ['2.0 does not inject without opt-in', input({ mesh: v2 }), false],
    [
      '2.0 injects into an opted-in namespace',
      input({ mesh: v2, namespaceLabels: { 'injector.nsm.nginx.com/auto-inject': 'enabled' } }),
      true,
    ],
    [
      '2.0 injects an opted-in pod',
      input({ mesh: v2, podLabels: { 'injector.nsm.nginx.com/auto-inject': 'enabled' } }),
      true,
    ],
    [
      'pod opt-out beats namespace opt-in',
      input({
        mesh: v2,
        podLabels: { 'injector.nsm.nginx.com/auto-inject': 'disabled' },
        namespaceLabels: { 'injector.nsm.nginx.com/auto-inject': 'enabled' },
      }),
      false,
    ],
    ['1.x namespace opt-out', input({ namespaceLabels: { 'injector.nsm.nginx.com/auto-inject': 'disabled' } }), false],
    [
      'never the mesh namespace',
      input({ namespace: 'nginx-mesh', namespaceLabels: { 'injector.nsm.nginx.com/auto-inject': 'enabled' } }),
      false,
    ],
    ['never kube-system', input({ namespace: 'kube-system' }), false],
    ['never a mesh hook Job pod', input({ podLabels: { 'job-name': 'csi-driver-sentinel' } }), false],
    ['never twice (annotation)', input({ podAnnotations: { 'injector.nsm.nginx.com/status': 'injected' } }), false],
    ['1.x disabled at install', input({ config: { ...defaultInjectionConfig, isAutoInjectEnabled: false } }), false],
    [
      '1.x disabled at install, namespace opted in',
      input({
        config: { ...defaultInjectionConfig, isAutoInjectEnabled: false },
        namespaceLabels: { 'injector.nsm.nginx.com/auto-inject': 'enabled' },
      }),
      true,
    ],
    [
      '1.x enabledNamespaces excludes others',
      input({ config: { ...defaultInjectionConfig, enabledNamespaces: ['other'] } }),
      false,
    ],
    [
      '1.x enabledNamespaces includes this one',
      input({ config: { isAutoInjectEnabled: false, enabledNamespaces: ['apps'], disabledNamespaces: [] } }),
      true,
    ],
    ['1.x disabledNamespaces', input({ config: { ...defaultInjectionConfig, disabledNamespaces: ['apps'] } }), false],
    ['2.0 ingress controller pods', input({ mesh: v2, podLabels: { 'nsm.nginx.com/enable-ingress': 'true' } }), true],
  ];
  it.each(table)('%s', (_name, i, expected) => {
    const d = decideInjection(i);
    expect(d.inject).toBe(expected);
    expect(d.reason).not.toBe('');
  });
});

describe('parseMeshConfigJson', () => {
  it('reads the 1.x injection block', () => {
    const text = JSON.stringify({
      isAutoInjectEnabled: true,
      injection: { isAutoInjectEnabled: false, enabledNamespaces: ['a', ' '], disabledNamespaces: ['b'] },
    });
    expect(parseMeshConfigJson(text)).toEqual({
      isAutoInjectEnabled: false,
      enabledNamespaces: ['a'],
      disabledNamespaces: ['b'],
    });
  });
  it('reads the ConfigMap as the charts write it (binaryData) or from data', () => {
    const json = '{"injection": {"isAutoInjectEnabled": false, "enabledNamespaces": ["a"]}}';
    expect(injectionConfigOf({ binaryData: { 'mesh-config.json': Buffer.from(json).toString('base64') } })).toEqual({
      isAutoInjectEnabled: false,
      enabledNamespaces: ['a'],
      disabledNamespaces: [],
    });
    expect(injectionConfigOf({ data: { 'mesh-config.json': json } }).isAutoInjectEnabled).toBe(false);
    expect(injectionConfigOf({})).toEqual(defaultInjectionConfig);
  });
  it('falls back to the top-level fields and to defaults on bad JSON', () => {
    expect(parseMeshConfigJson('{"isAutoInjectEnabled": false, "enabledNamespaces": ["x"]}')).toEqual({
      isAutoInjectEnabled: false,
      enabledNamespaces: ['x'],
      disabledNamespaces: [],
    });
    expect(parseMeshConfigJson('{nope')).toEqual(defaultInjectionConfig);
  });
});

describe('buildInjectionPatch', () => {
  it('adds init container, sidecar with the version tag, annotation and label to a bare pod', () => {
    const ops = buildInjectionPatch({ metadata: { name: 'p' }, spec: { containers: [{ name: 'app' }] } }, v1);
    expect(ops.map((o) => o.path)).toEqual([
      '/spec/initContainers',
      '/spec/containers/-',
      '/metadata/annotations',
      '/metadata/labels',
    ]);
    expect((ops[0]!.value as { image: string }[])[0]!.image).toBe('reg.example/nsm/nginx-mesh-init:1.6.0');
    expect(ops[1]!.value).toMatchObject({
      name: 'nginx-mesh-sidecar',
      image: 'reg.example/nsm/nginx-mesh-sidecar:1.6.0',
    });
    expect(ops[2]!.value).toEqual({ 'injector.nsm.nginx.com/status': 'injected' });
    expect(ops[3]!.value).toEqual({ 'spiffe.io/spiffeid': 'true' });
  });
  it('appends to existing init containers, annotations and labels with escaped keys', () => {
    const ops = buildInjectionPatch(
      {
        metadata: { labels: { a: 'b' }, annotations: { c: 'd' } },
        spec: { containers: [{ name: 'app' }], initContainers: [{ name: 'i' }] },
      },
      v2,
    );
    expect(ops.map((o) => o.path)).toEqual([
      '/spec/initContainers/-',
      '/spec/containers/-',
      '/metadata/annotations/injector.nsm.nginx.com~1status',
      '/metadata/labels/spiffe.io~1spiffeid',
    ]);
    expect(ops[1]!.value).toMatchObject({ image: 'reg.example/nsm/nginx-mesh-sidecar:2.0.0' });
  });
  it('escapes ~ and / in JSON pointers', () => {
    expect(pointerKey('a~b/c')).toBe('a~0b~1c');
  });
});
