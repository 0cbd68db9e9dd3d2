/**
 * Reading backup files part by part (src/backup/stream-read.ts) and reading a verified kind again
 * (verify.ts readVerifiedParts): parts cut at document markers only, whatever the chunk size; the
 * same cuts and hashes on a second read; a file changed after verification stops the second read
 * before the changed part is handed over.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../../src/backup/manifest.ts';
import { partText, scanParts, type FilePart } from '../../../src/backup/stream-read.ts';
import { readVerifiedParts, verifyBackup } from '../../../src/backup/verify.ts';
import { dumpDocuments, parseDocumentsSafe } from '../../../src/backup/yaml.ts';
import { writeFixture } from '../../fixtures/backups/build.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

async function fileOf(text: string | Buffer): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nsm-stream-'));
  dirs.push(dir);
  const file = path.join(dir, 'f.yaml');
  await fs.writeFile(file, text);
  return file;
}

async function partsOf(
  file: string,
  perPart: number,
  chunkBytes: number,
): Promise<{ parts: FilePart[]; scan: Awaited<ReturnType<typeof scanParts>> }> {
  const parts: FilePart[] = [];
  const scan = await scanParts(fs, file, { maxBytes: 1 << 30, perPart, chunkBytes }, (p) => {
    parts.push({ ...p, bytes: Buffer.from(p.bytes) });
  });
  return { parts, scan };
}

describe('scanParts', () => {
  // Block scalars holding "--- " lines (indented, so not markers), documents of many sizes.
  const docs = Array.from({ length: 23 }, (_, i) => ({
    n: i,
    text: `line one\n--- not a marker inside a block\n${'x'.repeat(i * 37)}\nend`,
    ü: 'ß',
  }));
  const text = dumpDocuments(docs);

  it.each([1, 2, 3, 7, 64, 1 << 20])(
    'cuts at document markers only, the same parts whatever the chunk size (%i bytes)',
    async (chunk) => {
      const file = await fileOf(text);
      const { parts, scan } = await partsOf(file, 5, chunk);
      expect(parts.map((p) => parseDocumentsSafe(partText(p)!, 'f.yaml', p.firstLine).length)).toEqual([5, 5, 5, 5, 3]);
      expect(parts.flatMap((p) => parseDocumentsSafe(partText(p)!, 'f.yaml', p.firstLine))).toEqual(docs);
      expect(Buffer.concat(parts.map((p) => p.bytes)).toString()).toBe(text);
      for (const p of parts)
        expect(p.firstLine).toBe(
          text
            .slice(
              0,
              Buffer.from(text)
                .subarray(0, Buffer.concat(parts.slice(0, p.index).map((q) => q.bytes)).length)
                .toString().length,
            )
            .split('\n').length,
        );
      expect(scan.sha256).toBe(sha256(text));
      expect(scan.parts).toEqual(parts.map((p) => sha256(p.bytes)));
      expect(scan.bytes).toBe(Buffer.byteLength(text));
    },
  );

  it('handles a file without a leading marker, a marker at the very end, CRLF lines and an empty file', async () => {
    const crlf = 'a: 1\r\n---\r\nb: 2\r\n---\r\nc: 3\r\n---';
    const { parts } = await partsOf(await fileOf(crlf), 1, 3);
    expect(parts.map((p) => partText(p))).toEqual(['a: 1\r\n', '---\r\nb: 2\r\n', '---\r\nc: 3\r\n', '---']);
    expect((await partsOf(await fileOf(''), 5, 4)).parts).toEqual([]);
  });

  it('never decodes a part with bytes that are not UTF-8', async () => {
    const { parts } = await partsOf(await fileOf(Buffer.from([0x2d, 0x2d, 0x2d, 0x0a, 0xff, 0xfe, 0x0a])), 5, 2);
    expect(parts.map(partText)).toEqual([undefined]);
  });
});

describe('readVerifiedParts', () => {
  const many = (ns: string) =>
    Array.from({ length: 250 }, (_, i) => ({
      apiVersion: 'split.smi-spec.io/v1alpha3',
      kind: 'TrafficSplit',
      metadata: { name: `ts-${i}`, namespace: ns },
      spec: { service: `s${i}`, backends: [] },
    }));
  const fixture = async () => {
    const content = dumpDocuments(many('shop'));
    const dir = await writeFixture({
      files: [
        {
          path: 'resources/trafficsplits.split.smi-spec.io.yaml',
          kind: 'TrafficSplit',
          group: 'split.smi-spec.io',
          version: 'v1alpha3',
          content,
          count: 250,
          sha256: sha256(content),
        },
      ],
    });
    dirs.push(dir);
    return dir;
  };

  it('hands over every verified object again, part by part, holding none with keepObjects: false', async () => {
    const dir = await fixture();
    const b = await verifyBackup(fs, dir, { keepObjects: false });
    const vk = b.kinds[0]!;
    expect(vk.objects).toEqual([]);
    expect([vk.count, vk.parts.length]).toEqual([250, 3]);
    const sizes: number[] = [];
    const names: string[] = [];
    await readVerifiedParts(fs, dir, vk, (objs) => {
      sizes.push(objs.length);
      names.push(...objs.map((o) => o.metadata!.name!));
    });
    expect(sizes).toEqual([100, 100, 50]);
    expect(names).toEqual(many('shop').map((o) => o.metadata.name));
  });

  it('stops before a part changed after verification; the parts before it were the verified bytes', async () => {
    const dir = await fixture();
    const b = await verifyBackup(fs, dir, { keepObjects: false });
    const file = path.join(dir, b.kinds[0]!.path);
    // The third part now holds a ClusterRoleBinding: it must never be handed over.
    const text = await fs.readFile(file, 'utf8');
    await fs.writeFile(
      file,
      text.replace(
        'kind: TrafficSplit\nmetadata:\n  name: ts-220',
        'kind: ClusterRoleBinding\nmetadata:\n  name: ts-220',
      ),
    );
    const seen: string[] = [];
    await expect(
      readVerifiedParts(fs, dir, b.kinds[0]!, (objs) => {
        seen.push(...objs.map((o) => String(o.kind)));
      }),
    ).rejects.toThrow(/changed since it was verified \(part 3, from line \d+, differs\)/);
    expect(seen).toHaveLength(200);
    expect(new Set(seen)).toEqual(new Set(['TrafficSplit']));
    // Grown by a part, or cut short: refused too.
    await fs.writeFile(file, text + dumpDocuments(many('other')));
    await expect(readVerifiedParts(fs, dir, b.kinds[0]!, () => undefined)).rejects.toThrow(
      /changed since it was verified/,
    );
    await fs.writeFile(file, text.slice(0, text.length / 2));
    await expect(readVerifiedParts(fs, dir, b.kinds[0]!, () => undefined)).rejects.toThrow(
      /changed since it was verified/,
    );
  });
});
