import { describe, expect, it } from 'vitest';
import { crdsInYaml } from '../../../src/engine/phases/crds.ts';

describe('crdsInYaml', () => {
  it('keeps only named CustomResourceDefinitions from helm show crds output', () => {
    const text = [
      '---',
      '# Source: crds/a.yaml',
      'apiVersion: apiextensions.k8s.io/v1',
      'kind: CustomResourceDefinition',
      'metadata:',
      '  name: trafficsplits.split.smi-spec.io',
      '---',
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      '  name: not-a-crd',
      '---',
      '',
      '---',
      'apiVersion: apiextensions.k8s.io/v1',
      'kind: CustomResourceDefinition',
      'metadata: {}',
    ].join('\n');
    expect(crdsInYaml(text).map((c) => c.metadata?.name)).toEqual(['trafficsplits.split.smi-spec.io']);
  });
});

describe('splitCrdDocuments', () => {
  it('separates CRD files that Helm 3 printed back to back without ---', () => {
    const a =
      '# first file\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: a.example.com\n';
    const b =
      '\n# second file\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: b.example.com\n';
    expect(crdsInYaml(a + b).map((c) => c.metadata?.name)).toEqual(['a.example.com', 'b.example.com']);
    expect(crdsInYaml(`---\n${a}---\n${b}`).map((c) => c.metadata?.name)).toEqual(['a.example.com', 'b.example.com']);
  });
});
