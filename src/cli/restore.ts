import path from 'node:path';
import type { OnConflict } from '../backup/apply.ts';
import { assertRestored, formatSummary } from '../backup/report.ts';
import { restoreBackup } from '../backup/restore.ts';
import { createDeps } from './context.ts';
import { defineCommand, withExamples } from './define.ts';
import { underLease } from './under-lease.ts';
import { parseConcurrency, parseDuration, withRunOptions, type GlobalArgv } from './options.ts';

const onConflictChoices: readonly OnConflict[] = ['skip', 'overwrite', 'fail'];

const restoreOptions = (y: GlobalArgv) =>
  withRunOptions(withExamples(y, [['$0 restore --from ./nsm-backup --dry-run', 'Server-side dry run: show schema rejections before writing'], ['$0 restore --from ./nsm-backup --on-conflict overwrite', 'Make every object equal to the backup']]))
    .option('from', { type: 'string', demandOption: true, describe: 'Backup directory written by `backup` or an upgrade' })
    .option('on-conflict', { choices: onConflictChoices, default: 'skip' as const, describe: 'When an object already exists: keep it (reporting differences), replace it, or stop' })
    .option('to-version', { type: 'string', describe: 'Mesh version restored into (selects version transforms; default: decided by each object\'s shape)' });

export const restoreCommand = defineCommand('restore', 'Verify a backup directory and re-create its resources, then check every object against the backup', restoreOptions, ['text', 'json'], async (argv, format) => {
  const timeoutMs = parseDuration(argv.timeout);
  const concurrency = parseConcurrency(argv.concurrency);
  const deps = await createDeps(argv);
  const restore = (signal?: AbortSignal) => restoreBackup(deps, { dir: argv.from, onConflict: argv.onConflict, dryRun: argv.dryRun, timeoutMs, concurrency, targetMeshVersion: argv.toVersion, signal });
  // A dry run changes nothing and needs no lease; a real restore holds the upgrade's lease.
  const report = argv.dryRun ? await restore() : await underLease(deps, { meshNamespace: argv.meshNamespace, operation: 'restore', backupDir: path.resolve(argv.from) }, restore);
  process.stdout.write(format === 'json' ? JSON.stringify({ ...report, items: report.items.filter((i) => i.outcome !== 'created' || i.verified === false) }, null, 2) + '\n' : formatSummary(report));
  assertRestored(report);
});
