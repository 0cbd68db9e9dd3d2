/**
 * What the backup step saves beside a hop's backup besides the objects (issue 17): every
 * setting's fate on the hop (settings.json, setting-fates.ts; secrets <redacted>) and the saved
 * objects against the hop target's CRD schemas (schema-report.json, schema-report.ts).
 */
import type { Deps } from '../../deps.ts';
import { writeFileAtomic } from '../../backup/write.ts';
import { writeBackupSchemaReport } from './schema-report.ts';
import type { Hop, Plan } from '../types.ts';

/** Writes both files into the hop's backup directory; returns what the step journals (the schema verdict counts). */
export async function writeHopReports(
  deps: Deps,
  plan: Plan,
  hop: Hop,
  dir: string,
  progress: (m: string) => void,
): Promise<{ schemas?: Record<string, number> }> {
  if (hop.settings)
    await writeFileAtomic(
      deps.fs,
      dir,
      'settings.json',
      JSON.stringify({ from: hop.from, to: hop.to, strategy: hop.strategy, settings: hop.settings }, null, 2) + '\n',
    );
  const schemas = await writeBackupSchemaReport(deps, plan, hop, dir);
  if (!schemas) return {};
  progress(
    `against ${schemas.source}'s CRD schemas: ${Object.entries(schemas.counts)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ')}`,
  );
  return { schemas: schemas.counts };
}
