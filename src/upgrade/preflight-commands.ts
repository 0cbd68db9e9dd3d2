/**
 * Preflight, part two: every nginx-meshctl command of the plan is checked against the binary that
 * will run it, before anything is removed. A flag the binary does not accept would otherwise stop
 * the run half-way (measured: remove ran, then deploy failed on `unknown flag: --pull-policy`,
 * leaving the mesh removed).
 *
 * - flags: `<bin> <command> --help` (cobra prints every visible flag, no cluster needed) plus the
 *   version's hidden flags (meshctl-flags.ts) must hold every flag the plan passes;
 * - values: the first hop's command runs the real binary's own checks through its hidden --dry-run
 *   where that changes nothing (read from the vendor source):
 *   - `deploy --dry-run` (manual hop): validates the flag values (telemetry exporter, registry
 *     credentials, injection flags, --persistent-storage on without a default StorageClass) before
 *     it sees the existing mesh and stops with "found existing release" / "CRDs detected": that
 *     refusal means every check before it passed. `--cleanup-on-error=false` because its image-pull
 *     watcher would otherwise run `remove` on the live mesh when it sees a recent pull failure;
 *   - `upgrade --dry-run` (in-place hop to 1.x): builds the values from the release and ConfigMap
 *     mesh-config (refusing OpenShift on 1.7) and renders a Helm upgrade without applying it. 2.0's
 *     is NOT used: it updates the CRDs before it looks at --dry-run (2.0.0 commands/upgrade.go).
 *   A binary without --dry-run (the 1.6.0 stand-in) skips the value check.
 */
import type { Deps } from '../deps.ts';
import type { Command } from '../controlplane/runner.ts';
import { formatCommand } from '../controlplane/runner.ts';
import { acceptedFlags, subcommandOf, unknownFlags, type MeshctlCommand } from '../controlplane/meshctl-flags.ts';
import type { Plan } from './types.ts';

export interface CommandFailure {
  check: 'binaries';
  message: string;
  fix: string;
}

export interface PlannedMeshctl {
  stepId: string;
  /** The version the step needs its binary to be. */
  version: string;
  hop: number;
  strategy: 'in-place' | 'manual';
  command: MeshctlCommand;
  cmd: Command;
}

/** Pure: the nginx-meshctl commands of a plan, with the version each one's binary must have. */
export function plannedMeshctlCommands(plan: Plan): PlannedMeshctl[] {
  const out: PlannedMeshctl[] = [];
  for (const hop of plan.hops) {
    if (hop.method !== 'meshctl') continue;
    for (const step of hop.steps) for (const cmd of step.commands) {
      const command = subcommandOf(cmd.args);
      if (!command) continue;
      out.push({ stepId: step.id, version: step.kind === 'remove' ? hop.from : hop.to, hop: hop.index, strategy: hop.strategy, command, cmd });
    }
  }
  return out;
}

/** Where the dry-run's arguments go: right after the subcommand (globals stay first). */
export function withDryRun(cmd: Command, command: MeshctlCommand): Command {
  const at = cmd.args.indexOf(command);
  const extra = command === 'deploy' ? ['--dry-run', '--cleanup-on-error=false'] : ['--dry-run'];
  return { bin: cmd.bin, args: [...cmd.args.slice(0, at + 1), ...extra, ...cmd.args.slice(at + 1)], writes: false, timeoutMs: 120_000 };
}

/** Pure: what a dry-run's result means. `undefined`: passed (or the binary has no dry-run). */
export function judgeDryRun(command: MeshctlCommand, res: { exitCode: number; stdout: string; stderr: string }): string | undefined {
  if (res.exitCode === 0) return undefined;
  const text = `${res.stderr}\n${res.stdout}`;
  if (/unknown flag: --dry-run/.test(text)) return undefined;
  // deploy: the existing mesh is the expected stop, reached only after the value checks passed.
  if (command === 'deploy' && /found existing release|NGINX Service Mesh CRDs detected/.test(text)) return undefined;
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !/^(Usage:|Flags:|Global Flags:|-)/.test(l));
  return lines.find((l) => /^Error:/.test(l)) ?? lines.slice(-2).join(' ') ?? `exit ${res.exitCode}`;
}

/** Runs `--help` once per binary and subcommand, then checks each planned command's flags. */
export async function checkPlannedFlags(deps: Pick<Deps, 'exec'>, plan: Plan): Promise<CommandFailure[]> {
  const helps = new Map<string, Promise<string | Error>>();
  const help = (bin: string, command: string) => {
    const key = `${bin}\0${command}`;
    if (!helps.has(key)) {
      helps.set(key, deps.exec.run({ bin, args: [command, '--help'], writes: false, timeoutMs: 30_000 })
        .then((r) => (r.exitCode === 0 ? r.stdout : new Error(`\`${command} --help\` exited ${r.exitCode}: ${(r.stderr || r.stdout).split('\n')[0] ?? ''}`)), (e: Error) => e));
    }
    return helps.get(key)!;
  };
  const failures: CommandFailure[] = [];
  for (const p of plannedMeshctlCommands(plan)) {
    const text = await help(p.cmd.bin, p.command);
    if (text instanceof Error) {
      failures.push({ check: 'binaries', message: `${p.cmd.bin} (nginx-meshctl ${p.version}, for ${p.stepId}) cannot list its ${p.command} flags: ${text.message}`, fix: `pass a working nginx-meshctl ${p.version}` });
      continue;
    }
    const unknown = unknownFlags(p.cmd.args, acceptedFlags(text, p.version, p.command));
    for (const f of unknown) {
      failures.push({
        check: 'binaries',
        message: `${p.stepId} would run \`${formatCommand(p.cmd)}\`, but ${p.cmd.bin} (nginx-meshctl ${p.version}) has no ${p.command} flag ${f}`,
        fix: `nothing was removed. Drop the setting behind ${f} (--deploy-flag or the release values), or pass the right nginx-meshctl ${p.version} binary`,
      });
    }
  }
  return failures;
}

/** The first hop's deploy or 1.x upgrade, run with --dry-run (see the header for why only those). */
export async function checkDryRuns(deps: Pick<Deps, 'exec'>, plan: Plan): Promise<CommandFailure[]> {
  const first = plannedMeshctlCommands(plan).filter((p) => p.hop === 1 && (p.command === 'deploy' || (p.command === 'upgrade' && p.version.startsWith('1.'))));
  const failures: CommandFailure[] = [];
  for (const p of first) {
    const cmd = withDryRun(p.cmd, p.command);
    const res = await deps.exec.run(cmd).catch((e: Error) => ({ exitCode: 1, stdout: '', stderr: e.message }));
    const problem = judgeDryRun(p.command, res);
    if (problem) {
      failures.push({ check: 'binaries', message: `nginx-meshctl ${p.version} (${p.cmd.bin}) rejects the ${p.stepId} command in a dry run: ${problem}`, fix: `nothing was removed. Fix the setting it names (see \`${formatCommand(cmd)}\`), then run again` });
    }
  }
  return failures;
}
