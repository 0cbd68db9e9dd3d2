import { backupMesh, type BackupSummary } from '../backup/backup.ts';
import { backupDirFor, defaultBackupDir } from '../backup/write.ts';
import { createDeps } from './context.ts';
import { defineCommand, withExamples } from './define.ts';
import { concurrencyOption, parseConcurrency, releaseOption, type GlobalArgv } from './options.ts';

export function formatBackupSummary(s: BackupSummary): string {
  const lines = [`backup written and verified: ${s.dir} (${s.objects} objects${s.meshVersion ? `, mesh ${s.meshVersion}` : ''})`];
  for (const k of s.kinds) lines.push(`  ${k.kind.padEnd(15)} ${String(k.count).padStart(6)}  ${k.file}`);
  for (const a of s.absent) lines.push(`  ${a.kind.padEnd(15)} absent: ${a.reason}`);
  lines.push(`  ${s.crds} mesh CRD(s) in crds.yaml; install configuration in install.yaml`);
  for (const f of s.discoveryFailures) lines.push(`  note: discovery of ${f.groupVersion} failed (${f.error})`);
  for (const w of s.warnings) lines.push(`  note: ${w}`);
  return lines.join('\n') + '\n';
}

const backupOptions = (y: GlobalArgv) =>
  withExamples(y, [['$0 backup --dir ./nsm-backup', 'Back up every namespace into ./nsm-backup'], ['$0 backup -n shop --dir ./shop-backup', 'Back up one namespace']])
    .option('dir', { type: 'string', describe: 'Backup directory, created 0700 (default ./nsm-backup-<time>); when it exists already, the backup goes into a new nsm-backup-<time> inside it' })
    .option('all-namespaces', { alias: 'A', type: 'boolean', default: true, describe: 'All namespaces (the default)' })
    .option('namespace', { alias: 'n', type: 'string', describe: 'Only this namespace' })
    .option('release', { ...releaseOption, describe: 'Helm release whose values go into install.yaml (default: the newest in the mesh namespace)' })
    .option('concurrency', concurrencyOption);

export const backupCommand = defineCommand('backup', "Back up the mesh's SMI and NGINX custom resources, CRDs and install configuration to a verified directory", backupOptions, ['text', 'json'], async (argv, format) => {
  const deps = await createDeps(argv);
  const now = new Date(deps.clock.now());
  const summary = await backupMesh(deps, {
    dir: argv.dir ? await backupDirFor(deps.fs, argv.dir, now) : defaultBackupDir(now),
    namespace: argv.namespace,
    concurrency: parseConcurrency(argv.concurrency),
    meshNamespace: argv.meshNamespace,
    release: argv.release,
  });
  process.stdout.write(format === 'json' ? JSON.stringify(summary, null, 2) + '\n' : formatBackupSummary(summary));
});
