/**
 * `kubectl nsm-upgrade fleet`: one upgrade over many clusters, canary first (src/fleet/). The flags
 * name the clusters (--contexts or --fleet FILE), the waves (--canary, --max-parallel, --soak) and
 * every cluster's defaults (the plan's flags); each cluster's run is the single-cluster upgrade.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Argv } from 'yargs';
import type { Deps, FleetDeps } from '../deps.ts';
import { realClock } from '../deps.ts';
import { ExitCode, ToolError, UsageError } from '../errors.ts';
import { createLog } from '../log.ts';
import { createRunner } from '../exec/runner.ts';
import { defaultBackupDir } from '../backup/write.ts';
import { fleetSpec, parseFleetFile, agree, type ClusterDefaults } from '../fleet/fleet-file.ts';
import { planFleet } from '../fleet/plan.ts';
import { formatFleetPlan, formatFleetSummary } from '../fleet/format.ts';
import {
  newFleetState,
  readFleetState,
  checkRecordedPaths,
  rebuildWaves,
  recordSurveys,
  writeFleetState,
  type FleetSettings,
  type FleetState,
} from '../fleet/state.ts';
import { checkRunDir, ensurePrivateDir } from '../backup/private-files.ts';
import { surveyFleet, surveyForResume } from '../fleet/resume.ts';
import { checkCluster, runFleet } from '../fleet/run.ts';
import type { FleetPlan, FleetSpec } from '../fleet/types.ts';
import { createDeps } from './context.ts';
import { confirmOrStop } from './confirm.ts';
import { commaList, parseDuration } from './options.ts';
import type { FleetArgs } from './fleet-options.ts';
import { selfCommand } from './self.ts';
import { commandFlags } from './completion-engine.ts';

function fleetDeps(argv: FleetArgs): FleetDeps {
  const log = createLog({ verbose: argv.verbose });
  const clusters = new Map<string, Promise<Deps>>();
  return {
    // Each cluster's run is this tool with --context: it reads the kubeconfig once and pins its own
    // children (the runner leaves KUBECONFIG out of every child's environment, so it is passed on here).
    fs,
    clock: realClock,
    log,
    exec: createRunner({
      dryRun: false,
      log,
      env: process.env.KUBECONFIG ? { KUBECONFIG: process.env.KUBECONFIG } : {},
    }),
    self: selfCommand(),
    pathEnv: process.env.PATH,
    cluster: (t) => {
      const key = `${t.kubeconfig ?? ''}\0${t.context}`;
      if (!clusters.has(key))
        clusters.set(key, createDeps({ kubeconfig: t.kubeconfig, context: t.context, verbose: argv.verbose }));
      return clusters.get(key)!;
    },
  };
}

/** The clusters the command line gives (--contexts or --fleet), with the flags as their defaults; `to`: a resumed fleet's target. */
async function givenSpec(argv: FleetArgs, to?: string): Promise<FleetSpec | undefined> {
  if (!commaList(argv.contexts).length && !argv.fleet) return undefined;
  if (commaList(argv.contexts).length && argv.fleet)
    throw new UsageError('--contexts and --fleet both name the clusters', 'Pass one of them.');
  const file = argv.fleet
    ? parseFleetFile(
        await fs.readFile(argv.fleet, 'utf8').catch((e: Error) => {
          throw new UsageError(`cannot read --fleet ${argv.fleet}: ${e.message}`);
        }),
        argv.fleet,
      )
    : undefined;
  const abs = (p: string | undefined) => (p !== undefined && p.includes('/') ? path.resolve(p) : p);
  const defaults: ClusterDefaults = {
    kubeconfig: argv.kubeconfig && path.resolve(argv.kubeconfig),
    meshNamespace: argv.meshNamespace,
    method: argv.method ?? 'auto',
    strategy: argv.strategy ?? 'auto',
    meshctl: (argv.meshctl ?? []).map((m) => abs(m)!),
    meshctlCurrent: abs(argv.meshctlCurrent),
    helm: abs(argv.helm),
    release: argv.release,
    chart: argv.chart && /^(\.{1,2})?\//.test(argv.chart) ? path.resolve(argv.chart) : argv.chart,
  };
  return fleetSpec({ contexts: commaList(argv.contexts), file }, defaults, {
    to: argv.to ?? to,
    canary: argv.canary,
    maxParallel: argv.maxParallel,
  });
}

/** The flag of each setting: given again with --resume, it must agree with the fleet's record. */
const settingFlags: Record<keyof FleetSettings, string> = {
  timeout: '--timeout',
  labelNamespaces: '--label-namespaces',
  onFailure: '--on-failure',
  skipRefused: '--skip-refused',
  soakMs: '--soak',
};

function givenSettings(argv: FleetArgs): Partial<FleetSettings> {
  if (argv.timeout !== undefined) parseDuration(argv.timeout);
  return {
    timeout: argv.timeout,
    labelNamespaces: argv.labelNamespaces,
    onFailure: argv.onFailure,
    skipRefused: argv.skipRefused,
    soakMs: argv.soak === undefined ? undefined : parseDuration(argv.soak, '--soak'),
  };
}

/** A fresh fleet's directory: new, or empty; a real directory of the user's that nobody else can write (private-files.ts), made 0700. */
async function prepareFleetDir(dir: string): Promise<boolean> {
  const existed = (await checkRunDir(fs, dir)) === 'present';
  if (existed && (await fs.readdir(dir)).length)
    throw new UsageError(
      `the fleet directory ${dir} is not empty`,
      `Pass a new --backup-dir, or continue the fleet that wrote it: kubectl nsm-upgrade fleet --resume ${dir}`,
    );
  await ensurePrivateDir(fs, dir);
  return !existed;
}

/** The fleet's state, fresh or resumed, and the plan to run. */
async function start(
  fd: FleetDeps,
  argv: FleetArgs,
): Promise<{ state: FleetState; plan: FleetPlan; fleetDir: string; created: boolean }> {
  const settings = givenSettings(argv);
  if (argv.resume) {
    const fleetDir = path.resolve(argv.resume);
    const state = await readFleetState(fs, fleetDir);
    const given = await givenSpec(argv, state.spec.to);
    if (given) {
      const [a, b] = [
        given.clusters.map((c) => c.context).join(','),
        state.spec.clusters.map((c) => c.context).join(','),
      ];
      if (a !== b)
        throw new UsageError(
          `the clusters given (${a}) are not the fleet's (${b})`,
          'Resume with the same clusters in the same order, or with none (the record has them).',
        );
      state.spec.clusters = given.clusters; // given again: their binaries and kubeconfigs are used, not the record's
    } else {
      await checkRecordedPaths(
        fs,
        state.spec.clusters.filter(
          (c) => !['done', 'up-to-date', 'skipped'].includes(state.clusters[c.context]!.status),
        ),
      );
    }
    const recorded = { source: 'the fleet being resumed' };
    agree('--to', argv.to, state.spec.to, recorded);
    agree('--canary', argv.canary, state.spec.canary, recorded);
    agree('--max-parallel', argv.maxParallel, state.spec.maxParallel, recorded);
    for (const [k, flag] of Object.entries(settingFlags) as [keyof FleetSettings, string][])
      agree(flag, settings[k], state.settings[k], recorded);
    const surveys = await surveyForResume(fd, state, { ...state.settings, to: state.spec.to, fleetDir });
    const { canary, waves } = rebuildWaves(state);
    state.waves = waves;
    const plan = planFleet(surveys, {
      to: state.spec.to,
      canary,
      maxParallel: state.spec.maxParallel,
      skipRefused: state.settings.skipRefused,
      waves,
    });
    recordSurveys(state, plan, new Date().toISOString());
    return { state, plan, fleetDir, created: false };
  }
  const given = await givenSpec(argv);
  if (!given) throw new UsageError('fleet needs clusters', 'Pass --contexts a,b,c or --fleet FILE (or --resume DIR).');
  const full: FleetSettings = {
    timeout: settings.timeout ?? '10m',
    labelNamespaces: settings.labelNamespaces ?? false,
    onFailure: settings.onFailure ?? 'stop',
    skipRefused: settings.skipRefused ?? false,
    soakMs: settings.soakMs ?? 0,
  };
  const fleetDir = path.resolve(argv.backupDir ?? defaultBackupDir(new Date()).replace('nsm-backup', 'nsm-fleet'));
  const created = await prepareFleetDir(fleetDir);
  fd.log.info(
    `Surveying ${given.clusters.length} cluster${given.clusters.length === 1 ? '' : 's'}: detect, plan and preflight each...`,
  );
  const surveys = await surveyFleet(fd, given, { ...full, to: given.to, fleetDir });
  const plan = planFleet(surveys, {
    to: given.to,
    canary: given.canary,
    maxParallel: given.maxParallel,
    skipRefused: full.skipRefused,
  });
  const state = newFleetState(
    given,
    full,
    plan.waves.map((w) => w.contexts),
    new Date().toISOString(),
  );
  recordSurveys(state, plan, new Date().toISOString());
  return { state, plan, fleetDir, created };
}

/** Ctrl-C (or SIGTERM, SIGHUP): the first stops starting clusters and asks every running one to stop after its step; the second stops them now. */
function passSignalsOn(fd: FleetDeps, abort: AbortController, fleetDir: string): () => void {
  let count = 0;
  const on = () => {
    count++;
    fd.exec.signalAll('SIGTERM');
    if (count === 1) {
      abort.abort(new Error('interrupted'));
      process.stderr.write(
        `\nInterrupted: no other cluster starts; each running cluster stops after its current step. Continue later with:\n  kubectl nsm-upgrade fleet --resume ${fleetDir}\n(Ctrl-C again to stop the running clusters at once: each releases its lease.)\n`,
      );
    } else {
      process.stderr.write('\nStopping the running clusters now.\n');
    }
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, on);
  return () => {
    for (const s of signals) process.off(s, on);
  };
}

/**
 * The fleet command; `buildCli` is the whole CLI, whose upgrade (the command each cluster's run is) says
 * whether it takes --on-failure yet: `rollback` is passed on to it only when it does.
 */
export async function runFleetCommand(
  argv: FleetArgs,
  format: 'text' | 'json',
  buildCli: (argv: string[]) => Argv,
): Promise<void> {
  if (argv.context)
    throw new UsageError(
      'fleet takes --contexts (or --fleet FILE), not --context',
      'Name every cluster with --contexts a,b,c.',
    );
  if (argv.onFailure === 'rollback' && !commandFlags(buildCli, '$0').has('on-failure')) {
    throw new UsageError(
      "--on-failure rollback is passed to each cluster's upgrade, which does not take --on-failure in this version",
      'Use --on-failure stop (the default): a failed cluster stays where it stopped, resumable with fleet --resume DIR.',
    );
  }
  const fd = fleetDeps(argv);
  const { state, plan, fleetDir, created } = await start(fd, argv);
  const drop = async () => {
    if (created) await fs.rmdir(fleetDir).catch(() => undefined);
  };
  const emit = (line: string) => process.stdout.write(line + '\n');
  if (format === 'json')
    emit(JSON.stringify({ at: new Date().toISOString(), step: 'fleet', event: 'plan', fleetDir, plan }));
  else (argv.dryRun ? process.stdout : process.stderr).write(formatFleetPlan(plan, fleetDir));
  if (plan.refusals.length) {
    await drop();
    const n = plan.refusals.length;
    throw new ToolError(
      `the fleet is refused (${n} problem${n === 1 ? '' : 's'}, listed with the plan above); nothing was changed`,
      ExitCode.preflight,
      'Fix them, or pass --skip-refused to leave the refused clusters out (never the canary).',
    );
  }
  if (argv.dryRun) {
    await drop();
    fd.log.info('Dry run: nothing was changed.');
    return;
  }
  if (!plan.waves.length) {
    await drop();
    process.stdout.write(`Every cluster is on ${plan.to}; nothing to do.\n`);
    return;
  }
  await confirmOrStop(
    argv.yes,
    `${argv.resume ? 'Resume the fleet' : 'Upgrade the fleet'} to ${plan.to}: ${plan.waves.map((w) => w.contexts.join(' + ')).join(', then ')}`,
    'the fleet upgrades clusters',
    'the same fleet command with --dry-run',
  ).catch(async (err: unknown) => {
    await drop();
    throw err;
  });
  await writeFleetState(fs, fleetDir, state);
  const abort = new AbortController();
  const restore = passSignalsOn(fd, abort, fleetDir);
  let result;
  try {
    result = await runFleet(fd, {
      fleetDir,
      plan,
      state,
      output: format,
      emit,
      verbose: argv.verbose,
      signal: abort.signal,
      check: checkCluster(fd, plan.to),
    });
  } finally {
    restore();
  }
  if (format === 'json')
    emit(
      JSON.stringify({
        at: new Date().toISOString(),
        step: 'fleet',
        event: result.stopped ? 'stopped' : 'done',
        fleetDir,
        clusters: state.clusters,
        ...(result.stopped ?? {}),
      }),
    );
  else process.stdout.write(formatFleetSummary(state, fleetDir, plan));
  if (result.stopped?.exitCode === 130) {
    process.exitCode = 130;
    return;
  }
  if (result.stopped) {
    throw new ToolError(
      `the fleet stopped${result.stopped.context ? ` at ${result.stopped.context}` : ''}: ${result.stopped.why}`,
      result.stopped.exitCode === 4 ? ExitCode.notConverged : ExitCode.failed,
      `Clusters not started were not touched. Fix the cause, then: kubectl nsm-upgrade fleet --resume ${fleetDir}`,
    );
  }
}
