/**
 * The images each hop of a plan makes the cluster run: its target chart rendered with the values the
 * hop carries.
 * - helm: `helm template` of the hop's chart with the values its upgrade reuses (the release's user
 *   values and its --set) or its install's values file, in a private temporary file;
 * - nginx-meshctl: the chart the binary embeds (that version's public chart: chart-images.ts) with
 *   the image settings the command gives it: a deploy's --registry-server, --image-tag,
 *   --disable-public-images and --environment (else the binary's defaults), an upgrade's release values
 *   with the target's tag (2.0's --registry-server/--image-tag on top). Where the binary's own dry run
 *   prints its manifest (an upgrade's), preflight adds what that names (preflight-commands.ts).
 * The injected sidecar and init images come from the rendered mesh config (manifest-images.ts).
 */
import path from 'node:path';
import os from 'node:os';
import { dump } from 'js-yaml';
import type { Deps } from '../deps.ts';
import type { Command } from '../exec/runner.ts';
import type { ChartRef } from '../controlplane/helm.ts';
import { revealDeep, cloneValues } from '../secret.ts';
import { valueAt } from '../values.ts';
import type { Hop, HopImages, Install, Plan } from '../engine/types.ts';
import { chartImages, defaultRegistryServer, type ImageSettings } from './chart-images.ts';
import { imagesOfManifests } from './manifest-images.ts';

export type { HopImages };

/** The value of `--flag V` or `--flag=V` in a command's arguments. */
function flagValue(args: readonly unknown[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = String(args[i]);
    if (a === flag) return String(args[i + 1]);
    if (a.startsWith(`${flag}=`)) return a.slice(flag.length + 1);
  }
  return undefined;
}

/** Pure: the image settings of an install's values. */
export function settingsOfValues(values: Record<string, unknown>, environment: string, tag: string): ImageSettings {
  const server = valueAt(values, 'registry.server');
  return {
    server: typeof server === 'string' && server ? server : defaultRegistryServer,
    tag,
    disablePublicImages:
      valueAt(values, 'registry.disablePublicImages') === true ||
      valueAt(values, 'registry.disablePublicImages') === 'true',
    environment: environment === 'openshift' ? 'openshift' : 'kubernetes',
  };
}

/** A boolean flag: bare (`--flag`) is true, `--flag=V` is V; undefined when absent. */
function boolFlag(args: readonly unknown[], flag: string): boolean | undefined {
  for (const a of args.map(String)) {
    if (a === flag) return true;
    if (a.startsWith(`${flag}=`)) return a.slice(flag.length + 1) === 'true';
  }
  return undefined;
}

/** Pure: what a command line changes of the settings (a deploy starts from the binary's defaults). */
function settingsOfCommand(cmd: Command, base: ImageSettings): ImageSettings {
  const dpi = boolFlag(cmd.args, '--disable-public-images');
  const env = flagValue(cmd.args, '--environment');
  return {
    server: flagValue(cmd.args, '--registry-server') ?? base.server,
    tag: flagValue(cmd.args, '--image-tag') ?? base.tag,
    disablePublicImages: dpi ?? base.disablePublicImages,
    environment: env === undefined ? base.environment : env === 'openshift' ? 'openshift' : 'kubernetes',
  };
}

/** Pure: each nginx-meshctl hop's images, from the chart data of its binary's version. */
export function meshctlHopImages(plan: Plan, install: Install): HopImages[] {
  let current = settingsOfValues(install.values, install.environment, install.version);
  return plan.hops.map((hop) => {
    const upgrade = hop.steps.find((s) => s.kind === 'upgrade');
    const deploy = hop.steps.find((s) => s.kind === 'deploy');
    const cmd = (deploy ?? upgrade)?.commands[0];
    const base = deploy
      ? { server: defaultRegistryServer, tag: hop.to, disablePublicImages: false, environment: 'kubernetes' as const }
      : { ...current, tag: hop.to };
    current = cmd ? settingsOfCommand(cmd, base) : base;
    const images = chartImages(hop.to, current);
    const source = `the chart nginx-meshctl ${hop.to} embeds, with registry ${current.server}, tag ${current.tag}${current.disablePublicImages ? ', no public images' : ''}, ${current.environment}`;
    return images
      ? { source, images }
      : { source, images: [], problem: `this tool has no image data for NSM ${hop.to}` };
  });
}

/** `helm template RELEASE CHART [--version V] -n NS -f VALUES [--set k=v]...`: read-only, no cluster. */
export function helmTemplate(
  bin: string,
  opts: { release: string; namespace: string; chart: ChartRef; valuesFile: string; set: readonly string[] },
): Command {
  return {
    bin,
    args: [
      'template',
      opts.release,
      opts.chart.ref,
      ...(opts.chart.version ? ['--version', opts.chart.version] : []),
      '-n',
      opts.namespace,
      '-f',
      opts.valuesFile,
      ...opts.set.flatMap((s) => ['--set', s]),
    ],
    writes: false,
    timeoutMs: 120_000,
  };
}

/** Pure: what `helm template` needs to render one helm hop (the values the hop carries), or why it cannot. */
function helmRender(
  hop: Hop,
  values: Record<string, unknown>,
): { chart: ChartRef; values: Record<string, unknown>; set: string[]; bin: string } | undefined {
  const step = hop.steps.find((s) => s.kind === 'deploy' || s.kind === 'upgrade');
  if (!step || !('chart' in step.params) || !step.params.chart?.ref || !step.commands[0]) return undefined;
  const bin = step.commands[0].bin;
  if (step.kind === 'deploy') {
    const file = step.params.files.find((f) => 'values' in f.content);
    return file && 'values' in file.content
      ? { chart: step.params.chart, values: file.content.values, set: [], bin }
      : undefined;
  }
  const set = step.commands[0].args.flatMap((a, i, all) => (all[i - 1] === '--set' ? [String(a)] : []));
  return { chart: step.params.chart, values, set, bin };
}

/** Renders each helm hop's chart with `helm template` (values in a 0600 file of a private temporary directory). */
async function helmHopImages(deps: Pick<Deps, 'exec' | 'fs'>, plan: Plan, install: Install): Promise<HopImages[]> {
  const dir = await deps.fs.mkdtemp(path.join(os.tmpdir(), 'nsm-upgrade-images-'));
  try {
    let values = cloneValues(install.values) as Record<string, unknown>;
    const out: HopImages[] = [];
    for (const hop of plan.hops) {
      const r = helmRender(hop, values);
      if (!r) {
        out.push({ source: 'helm template', images: [], problem: `hop ${hop.index} has no chart to render` });
        continue;
      }
      const file = path.join(dir, `values-hop${hop.index}.yaml`);
      await deps.fs.writeFile(file, dump(revealDeep(r.values)), { mode: 0o600 });
      const cmd = helmTemplate(r.bin, {
        release: plan.release ?? 'nsm',
        namespace: plan.namespace,
        chart: r.chart,
        valuesFile: file,
        set: r.set,
      });
      const res = await deps.exec.run(cmd).catch((e: Error) => ({ exitCode: 1, stdout: '', stderr: e.message }));
      const source = `helm template of chart ${r.chart.ref}${r.chart.version ? ` ${r.chart.version}` : ''} with the values hop ${hop.index} carries`;
      if (res.exitCode !== 0)
        out.push({
          source,
          images: [],
          problem: `helm template exited ${res.exitCode}: ${res.stderr.split('\n').find(Boolean) ?? ''}`,
        });
      else out.push({ source, images: imagesOfManifests(res.stdout) });
      // The next hop starts from what this one left: a redeploy's values (an upgrade keeps them; its --set is the tag, set again).
      if (hop.strategy === 'manual') values = r.values;
    }
    return out;
  } finally {
    await deps.fs.rm(dir, { recursive: true, force: true });
  }
}

/** The images of every hop of the plan (for `plan` and the image check). */
export async function planImages(deps: Pick<Deps, 'exec' | 'fs'>, plan: Plan, install: Install): Promise<HopImages[]> {
  if (!plan.hops.length) return [];
  return plan.method === 'helm' ? helmHopImages(deps, plan, install) : meshctlHopImages(plan, install);
}

/** The plan with each hop's images (shown by `plan`; not part of what a resume compares). */
export async function withPlanImages(deps: Pick<Deps, 'exec' | 'fs'>, plan: Plan, install: Install): Promise<Plan> {
  const images = await planImages(deps, plan, install);
  return { ...plan, hops: plan.hops.map((h, i) => ({ ...h, images: images[i] })) };
}
