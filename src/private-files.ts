import fs from 'node:fs';

/**
 * Files the run wrote that hold credentials (the private kubeconfig of its child commands): each is
 * removed by whoever wrote it when it is done, and all of them at once by the second Ctrl-C, which
 * ends the process without running the writers' cleanup (cli/signals.ts).
 */
const held = new Set<string>();

/** Remembers `file` until the returned function is called (after the writer removed it). */
export function holdPrivateFile(file: string): () => void {
  held.add(file);
  return () => {
    held.delete(file);
  };
}

/** Removes every file still held, synchronously (the process is about to exit). */
export function removePrivateFilesNow(): void {
  for (const f of held) {
    try {
      fs.rmSync(f, { force: true });
    } catch {
      /* nothing more can be done on the way out */
    }
    held.delete(f);
  }
}

/** The files held now (for tests). */
export function heldPrivateFiles(): string[] {
  return [...held];
}
