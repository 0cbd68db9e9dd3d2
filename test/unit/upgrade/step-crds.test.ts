import { describe, expect, it } from 'vitest';
import { crdsInYaml } from '../../../src/upgrade/step-crds.ts';

describe('crdsInYaml', () => {
  it('keeps only named CustomResourceDefinitions from helm show crds output', () => {
    const text = [
      '---', '# Source: crds/a.yaml', 'apiVersion: apiextensions.k8s.io/v1', 'kind: CustomResourceDefinition', 'metadata:', '  name: trafficsplits.split.smi-spec.io',
      '---', 'apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: not-a-crd',
      '---', '', '---', 'apiVersion: apiextensions.k8s.io/v1', 'kind: CustomResourceDefinition', 'metadata: {}',
    ].join('\n');
    expect(crdsInYaml(text).map((c) => c.metadata?.name)).toEqual(['trafficsplits.split.smi-spec.io']);
  });
});
