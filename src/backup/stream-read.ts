/**
 * Reading a backup file part by part, never whole: a restore of 100,000 objects holds one part
 * (about `partDocs` documents) at a time, not a kind's file nor its objects.
 *
 *   scanParts(fs, file, { maxBytes }, onPart): Promise<{ sha256, bytes, parts }>
 *
 * The file is read in 1 MB chunks and cut at lines that start a document (`---`, which YAML forbids
 * inside any scalar, so a cut never splits one). Each part is
 * handed over with its sha256, its first line and its text, decoded as strict UTF-8; the whole
 * file's sha256 comes at the end. The cuts depend only on the bytes, so a second read of the same
 * file yields the same parts with the same hashes: verify.ts records them on its pass, and the
 * restore's pass refuses any part whose hash differs (the file changed after it was verified).
 */
import { createHash } from 'node:crypto';
import type { Deps } from '../deps.ts';

type Fs = Deps['fs'];

/** Documents per part: small enough to parse with bounded memory, large enough to keep the API busy. */
export const partDocs = 100;

export interface FilePart {
  index: number;
  /** 1-based line of the part's first byte in the file. */
  firstLine: number;
  /** Hex sha256 of the part's bytes. */
  sha256: string;
  bytes: Buffer;
}

export interface FileScan {
  sha256: string;
  bytes: number;
  /** Each part's sha256, in order. */
  parts: string[];
}

export class FileTooLarge extends Error {}

const dash = 0x2d;
const nl = 0x0a;
const chunkBytes = 1024 * 1024;

/** Is `buf[p]` the start of a `---` marker line? `atFileStart`: p is the file's first byte. `eof`: nothing follows buf. Undefined: cannot tell yet. */
function markerAt(buf: Buffer, p: number, atFileStart: boolean, eof: boolean): boolean | undefined {
  if (!atFileStart && buf[p - 1] !== nl) return false;
  if (buf[p] !== dash || buf[p + 1] !== dash || buf[p + 2] !== dash)
    return p + 3 > buf.length && !eof ? undefined : false;
  if (p + 3 === buf.length) return eof ? true : undefined;
  const after = buf[p + 3];
  return after === 0x20 || after === 0x09 || after === 0x0d || after === nl;
}

function countLines(b: Buffer): number {
  let n = 0;
  for (let i = b.indexOf(nl); i !== -1; i = b.indexOf(nl, i + 1)) n++;
  return n;
}

/**
 * Reads `file` part by part; `onPart` is awaited before the next part is read (back-pressure).
 * Throws FileTooLarge when the file grows over `maxBytes` while being read.
 */
export async function scanParts(
  fs: Fs,
  file: string,
  opts: { maxBytes: number; perPart?: number; chunkBytes?: number },
  onPart: (p: FilePart) => Promise<void> | void,
): Promise<FileScan> {
  const perPart = opts.perPart ?? partDocs;
  const fh = await fs.open(file, 'r');
  const whole = createHash('sha256');
  const parts: string[] = [];
  let buf = Buffer.alloc(0);
  let consumed = 0; // file offset of buf[0]
  let scanned = 0; // buf offset up to which markers were looked for
  let docs = 0;
  let line = 1;
  let total = 0;
  const emit = async (end: number) => {
    const bytes = buf.subarray(0, end);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const part: FilePart = { index: parts.length, firstLine: line, sha256, bytes };
    parts.push(sha256);
    line += countLines(bytes);
    buf = buf.subarray(end);
    consumed += end;
    scanned -= end;
    docs = 0;
    await onPart(part);
  };
  try {
    const size = opts.chunkBytes ?? chunkBytes;
    const chunk = Buffer.allocUnsafe(size);
    for (let eof = false; !eof;) {
      const { bytesRead } = await fh.read(chunk, 0, size, null);
      eof = bytesRead === 0;
      if (!eof) {
        total += bytesRead;
        if (total > opts.maxBytes) throw new FileTooLarge(`grew over the ${opts.maxBytes}-byte limit while being read`);
        whole.update(chunk.subarray(0, bytesRead));
        buf = Buffer.concat([buf, chunk.subarray(0, bytesRead)]);
      }
      for (let p = buf.indexOf('---', scanned); p !== -1; p = buf.indexOf('---', p + 1)) {
        const m = markerAt(buf, p, consumed + p === 0, eof);
        if (m === undefined) {
          scanned = p;
          break;
        } // cut off by the chunk's end: looked at again with the next
        scanned = p + 1;
        // A marker after the part's first byte counts a document; the perPart-th starts the next part.
        if (m && p > 0 && ++docs >= perPart) {
          await emit(p);
          p = -1;
        }
      }
      if (eof) break;
      // A marker may begin in the last two bytes and end in the next chunk.
      if (buf.indexOf('---', scanned) === -1) scanned = Math.max(scanned, buf.length - 2);
    }
    if (buf.length > 0) await emit(buf.length);
  } finally {
    await fh.close();
  }
  return { sha256: whole.digest('hex'), bytes: total, parts };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A part's text; undefined when its bytes are not valid UTF-8 (parts end before a `---`, never inside a character). */
export function partText(p: FilePart): string | undefined {
  try {
    return utf8.decode(p.bytes);
  } catch {
    return undefined;
  }
}
