import { backupMesh, type BackupSummary } from '../backup/backup.ts';
import { backupDirFor, defaultBackupDir } from '../backup/write.ts';
import { createDeps } from './context.ts';
import { parseConcurrency } from './options.ts';
import type { BackupArgs } from './backup-options.ts';

export function formatBackupSummary(s: BackupSummary): string {
  const lines = [
    `backup written and verified: ${s.dir} (${s.objects} objects${s.meshVersion ? `, mesh ${s.meshVersion}` : ''})`,
  ];
  for (const k of s.kinds) lines.push(`  ${k.kind.padEnd(15)} ${String(k.count).padStart(6)}  ${k.file}`);
  for (const a of s.absent) lines.push(`  ${a.kind.padEnd(15)} absent: ${a.reason}`);
  lines.push(`  ${s.crds} mesh CRD(s) in crds.yaml; install configuration in install.yaml`);
  for (const f of s.discoveryFailures) lines.push(`  note: discovery of ${f.groupVersion} failed (${f.error})`);
  for (const w of s.warnings) lines.push(`  note: ${w}`);
  return lines.join('\n') + '\n';
}

export async function runBackupCommand(argv: BackupArgs, format: 'text' | 'json'): Promise<void> {
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
}
