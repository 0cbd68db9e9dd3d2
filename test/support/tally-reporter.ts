/**
 * A vitest reporter that ends every run with one plain line, `tally: N passed, N failed, N skipped`, and
 * lists each skipped test with its reason, so a skip is never silent. The reason is the note given to
 * `ctx.skip(note)`, else a `[skipped: ...]` part of the test's or a suite's title; a skip with neither
 * is listed as `NO REASON GIVEN` and `.ci/run` fails on it.
 *
 * It also lists the 15 slowest files and the 15 slowest tests of the run, so a slow test is seen when it lands.
 *
 * With TALLY_FILE set, the counts, skips, slowest and every file's time are also written there as JSON (`.ci/run`
 * reads the counts; test/run.ts adds up its shards' and records the times).
 */
import fs from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';

export interface Tally {
  passed: number;
  failed: number;
  skipped: number;
  skips: { test: string; reason: string }[];
}

/** A file or test and how long it took, in seconds. */
export interface Timing {
  name: string;
  seconds: number;
}

export interface Slowest {
  files: Timing[];
  tests: Timing[];
}

type TimedModule = Pick<TestModule, 'children' | 'relativeModuleId' | 'diagnostic'>;

/**
 * The slowest files and tests of the run. A file's time is its wall time in its worker: loading it
 * (collect and setup) plus its tests and hooks (a beforeAll that builds a mesh counts here, not in a test).
 */
export function slowest(modules: readonly TimedModule[], count = 15): Slowest {
  const files: Timing[] = [];
  const tests: Timing[] = [];
  for (const mod of modules) {
    const d = mod.diagnostic();
    const ms = d.environmentSetupDuration + d.prepareDuration + d.collectDuration + d.setupDuration + d.duration;
    files.push({ name: mod.relativeModuleId, seconds: ms / 1000 });
    for (const test of mod.children.allTests()) {
      const td = test.diagnostic();
      if (td) tests.push({ name: `${mod.relativeModuleId} > ${test.fullName}`, seconds: td.duration / 1000 });
    }
  }
  const top = (list: Timing[]) => list.sort((a, b) => b.seconds - a.seconds).slice(0, count);
  return { files: top(files), tests: top(tests) };
}

/** The slowest lists as the lines the reporter prints. */
export function slowestLines(s: Slowest): string[] {
  const rows = (list: Timing[]) => list.map((t) => `  ${t.seconds.toFixed(1).padStart(7)} s  ${t.name}`);
  return [
    ...(s.files.length ? [`slowest ${s.files.length} files:`, ...rows(s.files)] : []),
    ...(s.tests.length ? [`slowest ${s.tests.length} tests:`, ...rows(s.tests)] : []),
  ];
}

export const noReason = 'NO REASON GIVEN';

/** The reason of one skipped test: its ctx.skip note, else the innermost `[skipped: ...]` of its full name. */
export function skipReason(note: string | undefined, fullName: string): string {
  if (note?.trim()) return note.trim();
  const titled = [...fullName.matchAll(/\[skipped: ([^\]]+)\]/g)].pop();
  return titled ? titled[1]!.trim() : noReason;
}

/**
 * Counts the tests of the run. A test file that fails outside its tests (it does not load, a hook
 * throws) counts as one failure per error, and so does an unhandled error: else a file that never
 * ran would read as "0 failed".
 */
export function tallyModules(
  modules: readonly Pick<TestModule, 'children' | 'errors' | 'relativeModuleId'>[],
  unhandledErrors = 0,
): Tally {
  const tally: Tally = { passed: 0, failed: unhandledErrors, skipped: 0, skips: [] };
  for (const mod of modules) {
    tally.failed += mod.errors().length;
    for (const test of mod.children.allTests()) {
      const result = test.result();
      if (result.state === 'passed') tally.passed++;
      else if (result.state === 'failed') tally.failed++;
      else if (result.state === 'skipped') {
        tally.skipped++;
        tally.skips.push({
          test: `${mod.relativeModuleId} > ${test.fullName}`,
          reason: skipReason(result.note, test.fullName),
        });
      }
    }
  }
  return tally;
}

export default class TallyReporter implements Reporter {
  onTestRunEnd(modules: readonly TestModule[], unhandledErrors: readonly unknown[] = []): void {
    const tally = tallyModules(modules, unhandledErrors.length);
    const slow = slowest(modules);
    const lines = [...slowestLines(slow), ...tally.skips.map((s) => `  skipped: ${s.test}\n    reason: ${s.reason}`)];
    process.stdout.write(
      `${lines.length ? `${lines.join('\n')}\n` : ''}tally: ${tally.passed} passed, ${tally.failed} failed, ${tally.skipped} skipped\n`,
    );
    const file = process.env.TALLY_FILE;
    // Every file's time too: test/run.ts records them (NSM_RECORD_TIMES=1) to deal files to its shards.
    const files = Object.fromEntries(slowest(modules, Infinity).files.map((f) => [f.name, f.seconds]));
    if (file) fs.writeFileSync(file, `${JSON.stringify({ ...tally, slowest: slow, files })}\n`);
  }
}
