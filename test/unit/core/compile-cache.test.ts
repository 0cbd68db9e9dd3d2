/** The compile cache holds code Node runs: only in a private directory of this user's, else not at all. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileCacheDir, privateDir } from '../../../src/compile-cache.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsm-ccache-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('compile cache directory', () => {
  it('is under $XDG_CACHE_HOME when it is absolute, else ~/.cache, never a shared path', () => {
    expect(compileCacheDir({ XDG_CACHE_HOME: '/home/u/.xdg' }, '/home/u')).toBe(
      '/home/u/.xdg/nsm-upgrade/compile-cache',
    );
    expect(compileCacheDir({ XDG_CACHE_HOME: 'relative' }, '/home/u')).toBe('/home/u/.cache/nsm-upgrade/compile-cache');
    expect(compileCacheDir({}, '/home/u')).toBe('/home/u/.cache/nsm-upgrade/compile-cache');
    expect(compileCacheDir({}, '')).toBeUndefined();
  });

  it('is created 0700 and used', () => {
    const dir = path.join(tmp, 'a/nsm-upgrade/compile-cache');
    expect(privateDir(dir)).toBe(dir);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('is not used when others can read or write it, or when it is a symlink or a file', () => {
    const open = path.join(tmp, 'open');
    fs.mkdirSync(open, { mode: 0o777 });
    fs.chmodSync(open, 0o777);
    expect(privateDir(open)).toBeUndefined();
    const target = path.join(tmp, 'target');
    fs.mkdirSync(target, { mode: 0o700 });
    fs.symlinkSync(target, path.join(tmp, 'link'));
    expect(privateDir(path.join(tmp, 'link'))).toBeUndefined();
    fs.writeFileSync(path.join(tmp, 'file'), '');
    expect(privateDir(path.join(tmp, 'file'))).toBeUndefined();
  });
});
