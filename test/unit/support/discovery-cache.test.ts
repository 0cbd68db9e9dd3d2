import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { discoveryCacheName, forgetDiscovery } from '../../cluster/discovery-cache.ts';

const saved = process.env.KUBECACHEDIR;
afterEach(() => {
  if (saved === undefined) delete process.env.KUBECACHEDIR;
  else process.env.KUBECACHEDIR = saved;
});

describe('the test clusters and client-go discovery cache', () => {
  it("names a server's entry as client-go does", () => {
    expect(discoveryCacheName('https://127.0.0.1:42903')).toBe('127.0.0.1_42903');
    expect(discoveryCacheName('https://[::1]:6443/prefix')).toBe('___1__6443/prefix');
  });

  it("forgets only that server's entry, under KUBECACHEDIR", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-cache-'));
    process.env.KUBECACHEDIR = dir;
    for (const d of ['127.0.0.1_42903/security.openshift.io/v1', '127.0.0.1_42904'])
      fs.mkdirSync(path.join(dir, 'discovery', d), { recursive: true });
    forgetDiscovery('https://127.0.0.1:42903');
    expect(fs.readdirSync(path.join(dir, 'discovery'))).toEqual(['127.0.0.1_42904']);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
