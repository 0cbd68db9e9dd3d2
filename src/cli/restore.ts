import path from 'node:path';
import { assertRestored, formatSummary, hasNotes } from '../backup/report.ts';
import { restoreBackup } from '../backup/restore.ts';
import { createDeps } from './context.ts';
import { underLease } from '../engine/hold-lease.ts';
import { parseConcurrency, parseDuration } from './options.ts';
import type { RestoreArgs } from './restore-options.ts';

export async function runRestoreCommand(argv: RestoreArgs, format: 'text' | 'json'): Promise<void> {
  const timeoutMs = parseDuration(argv.timeout);
  const concurrency = parseConcurrency(argv.concurrency);
  const deps = await createDeps(argv);
  const restore = (signal?: AbortSignal) =>
    restoreBackup(deps, {
      dir: argv.from,
      onConflict: argv.onConflict,
      dryRun: argv.dryRun,
      timeoutMs,
      concurrency,
      targetMeshVersion: argv.toVersion,
      signal,
    });
  // A dry run changes nothing and needs no lease; a real restore holds the upgrade's lease.
  const report = argv.dryRun
    ? await restore()
    : await underLease(
        deps,
        { meshNamespace: argv.meshNamespace, operation: 'restore', backupDir: path.resolve(argv.from) },
        restore,
      );
  process.stdout.write(
    format === 'json'
      ? JSON.stringify(
          {
            ...report,
            items: report.items.filter((i) => i.outcome !== 'created' || i.verified === false || hasNotes(i)),
          },
          null,
          2,
        ) + '\n'
      : formatSummary(report),
  );
  assertRestored(report);
}
