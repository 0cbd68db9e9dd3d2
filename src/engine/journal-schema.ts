/**
 * The journal's schema, checked record by record before --resume takes anything from it. A journal
 * is data the tool wrote, but it sits on disk where it can be edited: a record of an unknown type,
 * a field of the wrong type, a step id the plan does not have or another schema version ends the
 * resume with exit 2, nothing run. (What the plan's commands say is checked in resume.ts, by
 * rebuilding the plan: nothing here is ever executed.)
 */
import { UsageError } from '../errors.ts';
import type { Install, Plan, PlanOptions } from './types.ts';
import type { RunBinaries } from './binary-digests.ts';

export interface ClusterIdentity {
  /** The API server URL the tool talked to (no credentials: the kubeconfig rejects URLs with them). */
  server: string;
  /** metadata.uid of namespace kube-system: the same URL may front another cluster after a rebuild. */
  uid: string;
}

export type JournalRecord =
  | { type: 'run'; schema: number; runId: string; at: string; toolVersion: string; install: Install; inputs: PlanOptions; cluster: ClusterIdentity; plan: Plan; binaries: RunBinaries }
  | { type: 'step'; runId: string; at: string; step: string; status: 'done'; data?: Record<string, unknown> }
  | { type: 'resume'; runId: string; at: string; previousRunId: string }
  | { type: 'finished'; runId: string; at: string; converged: boolean };


/** Bumped when the run record changes shape; a journal of another schema is refused on --resume. */
export const journalSchemaVersion = 3;

type Shape = Record<string, 'string' | 'number' | 'boolean' | 'object' | 'array' | 'string?' | 'object?'>;

const shapes: Record<JournalRecord['type'], Shape> = {
  run: { schema: 'number', runId: 'string', at: 'string', toolVersion: 'string', install: 'object', inputs: 'object', cluster: 'object', plan: 'object', binaries: 'object' },
  step: { runId: 'string', at: 'string', step: 'string', status: 'string', data: 'object?' },
  resume: { runId: 'string', at: 'string', previousRunId: 'string' },
  finished: { runId: 'string', at: 'string', converged: 'boolean' },
};

const nested: Record<string, Shape> = {
  install: { namespace: 'string', version: 'string', method: 'string', environment: 'string', values: 'object' },
  inputs: { to: 'string', strategy: 'string', meshctlBinaries: 'object', chart: 'object', deployFlagChanges: 'object', backupDir: 'string', timeout: 'string' },
  cluster: { server: 'string', uid: 'string' },
  plan: { from: 'string', to: 'string', namespace: 'string', method: 'string', hops: 'array' },
  binaries: { meshctl: 'object', helm: 'object?', chart: 'object' },
};

function typeOf(v: unknown): string {
  return Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
}

function check(obj: Record<string, unknown>, shape: Shape, where: string): string | undefined {
  for (const [key, want] of Object.entries(shape)) {
    const optional = want.endsWith('?');
    const v = obj[key];
    if (v === undefined && optional) continue;
    if (typeOf(v) !== want.replace('?', '')) return `${where}.${key} is ${v === undefined ? 'missing' : `a ${typeOf(v)}`}, not a ${want.replace('?', '')}`;
  }
  return undefined;
}

const isDigest = (d: unknown) => typeOf(d) === 'object' && typeof (d as { path?: unknown }).path === 'string' && /^[0-9a-f]{64}$/.test(String((d as { sha256?: unknown }).sha256));

/** What is wrong with the recorded binaries (binary-digests.ts), or undefined. */
export function binariesProblem(b: Record<string, unknown>): string | undefined {
  for (const [v, d] of Object.entries(b.meshctl as Record<string, unknown>)) if (!isDigest(d)) return `binaries.meshctl[${JSON.stringify(v)}] is not a path with a sha256`;
  if (b.helm !== undefined && !isDigest(b.helm)) return 'binaries.helm is not a path with a sha256';
  const chart = b.chart as { ref?: unknown; sha256?: unknown };
  if (typeof chart.ref !== 'string' || (chart.sha256 !== undefined && !/^[0-9a-f]{64}$/.test(String(chart.sha256)))) return 'binaries.chart is not a reference (with a sha256 when local)';
  return undefined;
}

/** Pure: the records, typed, or a UsageError naming the first line that does not fit. */
export function checkJournalRecords(records: readonly unknown[], file: string): JournalRecord[] {
  const fail = (line: number, why: string) => new UsageError(`${file}: line ${line} does not fit the journal schema: ${why}`,
    'The journal was changed or damaged, so --resume will not trust it and nothing was run. Check the cluster (kubectl nsm-upgrade status); the backup can be restored with `kubectl nsm-upgrade restore --from DIR/hop1`.');
  if (records.length === 0) throw new UsageError(`${file} is empty`, 'Pass the backup directory of an upgrade run to --resume.');
  let stepIds = new Set<string>();
  records.forEach((r, i) => {
    if (typeOf(r) !== 'object') throw fail(i + 1, 'not an object');
    const rec = r as Record<string, unknown>;
    const type = rec.type as JournalRecord['type'];
    if (!Object.hasOwn(shapes, String(type))) throw fail(i + 1, `unknown record type ${JSON.stringify(rec.type)}`);
    if (i === 0 && type !== 'run') throw fail(1, 'the first record must be the run record');
    if (i > 0 && type === 'run') throw fail(i + 1, 'a second run record');
    const bad = check(rec, shapes[type], type);
    if (bad) throw fail(i + 1, bad);
    if (type === 'run') {
      if (rec.schema !== journalSchemaVersion) throw fail(1, `schema ${String(rec.schema)}, this version reads schema ${journalSchemaVersion} (finish the run with the version that started it)`);
      for (const [key, shape] of Object.entries(nested)) {
        const inner = check(rec[key] as Record<string, unknown>, shape, key);
        if (inner) throw fail(1, inner);
      }
      const bad = binariesProblem(rec.binaries as Record<string, unknown>);
      if (bad) throw fail(1, bad);
      const hops = (rec.plan as { hops: unknown[] }).hops;
      stepIds = new Set(hops.flatMap((h) => (typeOf(h) === 'object' && Array.isArray((h as { steps?: unknown }).steps) ? (h as { steps: { id?: unknown }[] }).steps.map((s) => String(s?.id)) : [])));
    }
    if (type === 'step') {
      if (!stepIds.has(rec.step as string)) throw fail(i + 1, `step ${JSON.stringify(rec.step)} is not a step of the journaled plan`);
      if (rec.status !== 'done') throw fail(i + 1, `step status ${JSON.stringify(rec.status)}`);
    }
  });
  return records as JournalRecord[];
}
