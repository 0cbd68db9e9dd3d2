import { describe, expect, it } from 'vitest';
import { kindPlan } from '../../../src/backup/backup.ts';
import { catalog } from '../../../src/mesh/catalog.ts';
import { ToolError } from '../../../src/errors.ts';

const split = catalog.find((k) => k.kind === 'TrafficSplit')!;

describe('kindPlan: the version a kind is backed up in', () => {
  it('picks the storage version when served, else the newest known one', () => {
    expect(kindPlan(split, [...split.versions]).version).toBe(split.storageVersion);
    expect(kindPlan(split, [split.versions[0]!]).version).toBe(split.versions[0]);
  });
  it('a CRD that serves nothing holds nothing: absent, with the reason', () => {
    expect(kindPlan(split, []).absentReason).toMatch(/serves no version/);
  });
  it('a CRD serving only versions the tool does not know fails the backup instead of leaving its objects out', () => {
    expect(() => kindPlan(split, ['v9alpha9'])).toThrow(ToolError);
    expect(() => kindPlan(split, ['v9alpha9'])).toThrow(
      /serves v9alpha9, which this version of kubectl nsm-upgrade cannot back up .*its objects would be lost by a removal/,
    );
  });
});
