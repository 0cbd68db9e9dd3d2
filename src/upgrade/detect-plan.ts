/**
 * What `plan`, the upgrade and the fleet's survey all do first: detect the install, gather the
 * planner's inputs (binaries, chart, namespaces) and build the plan. Refusals stay in the plan:
 * each caller decides what they mean (exit 2 for one cluster, the whole fleet refused for a fleet).
 */
import type { Deps } from '../deps.ts';
import { detectInstall } from '../mesh/detect.ts';
import type { InstallLocation } from '../engine/option-groups.ts';
import { gatherPlanInputs, type PlanArgs } from './plan-inputs.ts';
import { buildPlan } from './plan.ts';
import { withPlanImages } from '../images/hop-images.ts';
import type { Install, Plan, PlanOptions } from '../engine/types.ts';

/** What detecting and planning read: where the install is, and the plan's own arguments. */
export type DetectPlanArgs = PlanArgs & InstallLocation;

export async function detectAndPlan(
  deps: Deps,
  a: DetectPlanArgs,
): Promise<{ install: Install; inputs: PlanOptions; plan: Plan }> {
  const install = await detectInstall(deps, { meshNamespace: a.meshNamespace, method: a.method, release: a.release });
  const inputs = await gatherPlanInputs(deps, install, a);
  const plan = buildPlan(install, inputs);
  // Each hop's images (rendered with the values it carries): shown by plan, checked by preflight.
  return { install, inputs, plan: plan.refusals.length ? plan : await withPlanImages(deps, plan, install) };
}
