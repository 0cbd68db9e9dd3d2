import { describe, expect, it } from 'vitest';
import { podCidr } from '../../cluster/snapshot.ts';

describe('podCidr', () => {
  it("gives each KWOK restart its own /20, away from cluster:up's 10.244.0.0/16 and the services' 10.0.0.0/24", () => {
    expect(podCidr(1)).toBe('10.64.0.0/20');
    expect(podCidr(2)).toBe('10.64.16.0/20');
    expect(podCidr(16)).toBe('10.64.240.0/20');
    expect(podCidr(17)).toBe('10.65.0.0/20');
    expect(podCidr(1024)).toBe('10.127.240.0/20');
    const all = new Set(Array.from({ length: 1024 }, (_, i) => podCidr(i + 1)));
    expect(all.size).toBe(1024);
  });
  it('refuses a restart number it has no range for', () => {
    expect(() => podCidr(0)).toThrow(/1\.\.1024/);
    expect(() => podCidr(1025)).toThrow(/restart the cluster/);
  });
});
