/**
 * Preflight, part two: every nginx-meshctl command of the plan is checked against the binary that
 * will run it, before anything is removed. A flag the binary does not accept would otherwise stop
 * the run half-way (measured: remove ran, then deploy failed on `unknown flag: --pull-policy`,
 * leaving the mesh removed).
 *
 * - flags: `<bin> <command> --help` (cobra prints every visible flag, no cluster needed) plus the
 *   version's hidden flags (meshctl-flags.ts) must hold every flag the plan passes;
 * - values: the first hop's command runs the real binary's own checks through its hidden --dry-run,
 *   against the dry-run proxy (dry-run-proxy.ts: every write it sends becomes a server-side dry run,
 *   so nothing changes even where the binary's --dry-run still writes). Read from the vendor source:
 *   - `deploy --dry-run` (manual hop): validates the flag values (telemetry exporter, registry
 *     credentials, injection flags, --persistent-storage on without a default StorageClass) before
 *     it sees the existing mesh and stops with "found existing release" / "CRDs detected": that
 *     refusal means every check before it passed. `--cleanup-on-error=false` because its image-pull
 *     watcher would otherwise run `remove` on the live mesh when it sees a recent pull failure;
 *   - `upgrade --dry-run` (in-place hop): builds the values from the release and ConfigMap
 *     mesh-config (1.7 refuses OpenShift; 2.0 dereferences that ConfigMap's fields and the values
 *     must pass the 2.0 chart's schema) and renders a Helm upgrade without applying it, printing its
 *     manifest (whose images preflight checks too). 2.0's applies the 2.0 CRDs first, before it looks
 *     at --dry-run (2.0.0 commands/upgrade.go): the proxy makes those writes dry runs, so Helm then
 *     cannot map the kinds those CRDs add (MeshConfig, MeshConfigClass): that stop comes after the
 *     values were built, checked against the schema and rendered, and is taken as a pass.
 *   A refusal shows the head of what the binary printed when it panicked (child-output.ts).
 *   A binary without --dry-run (the 1.6.0 stand-in) skips the value check.
 */
import type { Deps } from '../deps.ts';
import type { Command } from '../exec/runner.ts';
import { formatCommand } from '../exec/runner.ts';
import { acceptedFlags, subcommandOf, unknownFlags, type MeshctlCommand } from '../controlplane/meshctl-flags.ts';
import type { Plan } from '../engine/types.ts';
import { childFailureText } from '../exec/child-output.ts';
import { withDryRunProxy } from './dry-run-proxy.ts';

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
    for (const step of hop.steps)
      for (const cmd of step.commands) {
        const command = subcommandOf(cmd.args);
        if (!command) continue;
        out.push({
          stepId: step.id,
          version: step.kind === 'remove' ? hop.from : hop.to,
          hop: hop.index,
          strategy: hop.strategy,
          command,
          cmd,
        });
      }
  }
  return out;
}

/** Where the dry-run's arguments go: right after the subcommand (globals stay first). */
export function withDryRun(cmd: Command, command: MeshctlCommand): Command {
  const at = cmd.args.indexOf(command);
  const extra = command === 'deploy' ? ['--dry-run', '--cleanup-on-error=false'] : ['--dry-run'];
  return {
    bin: cmd.bin,
    args: [...cmd.args.slice(0, at + 1), ...extra, ...cmd.args.slice(at + 1)],
    writes: false,
    timeoutMs: 120_000,
  };
}

/** The groups of the CRDs a target's upgrade creates (not there before it): 2.0's nsm.nginx.com. */
const newCrdGroups = new Set(['nsm.nginx.com']);

/** Pure: Helm's "resource mapping not found" naming only kinds of those new CRDs. */
export function newKindsOnly(text: string): boolean {
  const kinds = [...text.matchAll(/no matches for kind "\w+" in version "([\w.-]+)\/\w+"/g)];
  return /resource mapping not found/.test(text) && kinds.length > 0 && kinds.every((k) => newCrdGroups.has(k[1]!));
}

/** Pure: what a dry-run's result means. `undefined`: passed (or the binary has no dry-run). */
export function judgeDryRun(
  command: MeshctlCommand,
  res: { exitCode: number; stdout: string; stderr: string },
): string | undefined {
  if (res.exitCode === 0) return undefined;
  const text = `${res.stderr}\n${res.stdout}`;
  if (/unknown flag: --dry-run/.test(text)) return undefined;
  // deploy: the existing mesh is the expected stop, reached only after the value checks passed.
  if (command === 'deploy' && /found existing release|NGINX Service Mesh CRDs detected/.test(text)) return undefined;
  // upgrade: through the proxy the target's new CRDs (2.0's MeshConfig, MeshConfigClass) were a dry run, so
  // Helm cannot map the kinds they add; it says so after the values passed the chart's schema and rendered.
  if (command === 'upgrade' && newKindsOnly(text)) return undefined;
  if (/^panic: /m.test(text))
    return `it panicked (exit ${res.exitCode}):\n${childFailureText(`${res.stdout}\n${res.stderr}`)}`;
  const all = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const error = all.findIndex((l) => /^Error:/.test(l));
  // An Error: line may go on below (a chart schema's list of what failed), until cobra's usage.
  if (error >= 0) {
    const end = all.findIndex((l, i) => i > error && /^(Error:|Usage:)/.test(l));
    return all.slice(error, end < 0 ? error + 6 : Math.min(end, error + 6)).join(' ');
  }
  const lines = all.filter((l) => !/^(Usage:|Flags:|Global Flags:|-)/.test(l));
  return lines.slice(-2).join(' ') || `exit ${res.exitCode}`;
}

/** Runs `--help` once per binary and subcommand, then checks each planned command's flags. */
export async function checkPlannedFlags(deps: Pick<Deps, 'exec'>, plan: Plan): Promise<CommandFailure[]> {
  const helps = new Map<string, Promise<string | Error>>();
  const help = (bin: string, command: string) => {
    const key = `${bin}\0${command}`;
    if (!helps.has(key)) {
      helps.set(
        key,
        deps.exec.run({ bin, args: [command, '--help'], writes: false, timeoutMs: 30_000 }).then(
          (r) =>
            r.exitCode === 0
              ? r.stdout
              : new Error(`\`${command} --help\` exited ${r.exitCode}: ${(r.stderr || r.stdout).split('\n')[0] ?? ''}`),
          (e: Error) => e,
        ),
      );
    }
    return helps.get(key)!;
  };
  const failures: CommandFailure[] = [];
  for (const p of plannedMeshctlCommands(plan)) {
    const text = await help(p.cmd.bin, p.command);
    if (text instanceof Error) {
      failures.push({
        check: 'binaries',
        message: `${p.cmd.bin} (nginx-meshctl ${p.version}, for ${p.stepId}) cannot list its ${p.command} flags: ${text.message}`,
        fix: `pass a working nginx-meshctl ${p.version}`,
      });
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

/** Pure: the command with its kubeconfig (`-k`) replaced by the dry-run proxy's. */
export function throughProxy(cmd: Command, kubeconfig: string): Command {
  const at = cmd.args.indexOf('-k');
  const rest = at >= 0 ? [...cmd.args.slice(0, at), ...cmd.args.slice(at + 2)] : cmd.args;
  return { ...cmd, args: ['-k', kubeconfig, ...rest] };
}

/** The first hop's deploy or upgrade, run with --dry-run through the dry-run proxy (see the header). */
export async function checkDryRuns(
  deps: Pick<Deps, 'exec' | 'kube' | 'fs'>,
  plan: Plan,
  printed?: (hop: number, stdout: string) => void,
): Promise<CommandFailure[]> {
  const first = plannedMeshctlCommands(plan).filter(
    (p) => p.hop === 1 && (p.command === 'deploy' || p.command === 'upgrade'),
  );
  return first.length
    ? withDryRunProxy(deps, plan.namespace, (kubeconfig) => runDryRuns(deps, first, kubeconfig, printed))
    : [];
}

async function runDryRuns(
  deps: Pick<Deps, 'exec'>,
  first: readonly PlannedMeshctl[],
  kubeconfig: string,
  printed?: (hop: number, stdout: string) => void,
): Promise<CommandFailure[]> {
  const failures: CommandFailure[] = [];
  for (const p of first) {
    const cmd = throughProxy(withDryRun(p.cmd, p.command), kubeconfig);
    const res = await deps.exec.run(cmd).catch((e: Error) => ({ exitCode: 1, stdout: '', stderr: e.message }));
    const problem = judgeDryRun(p.command, res);
    if (!problem && res.exitCode === 0) printed?.(p.hop, res.stdout);
    if (problem) {
      failures.push({
        check: 'binaries',
        message: `nginx-meshctl ${p.version} (${p.cmd.bin}) rejects the ${p.stepId} command in a dry run: ${problem}`,
        fix: `nothing was removed. Fix the setting it names (see \`${formatCommand(withDryRun(p.cmd, p.command))}\`), then run again${p.command === 'upgrade' ? ', or upgrade with --strategy manual (remove, then deploy with the carried settings)' : ''}`,
      });
    }
  }
  return failures;
}
