import { describe, expect, it } from 'vitest';
import { clusterStateAfter } from '../../../src/engine/state-notes.ts';

describe('clusterStateAfter', () => {
  it('says when the mesh is down and where the resources are', () => {
    expect(clusterStateAfter('remove')).toMatch(/REMOVED.*only in the backup/);
    expect(clusterStateAfter('deploy')).toMatch(/NOT restored/);
    expect(clusterStateAfter(undefined)).toMatch(/Nothing in the cluster was changed/);
    expect(clusterStateAfter('backup')).toMatch(/Nothing in the cluster was changed/);
  });
});
