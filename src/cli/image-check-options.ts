/**
 * The image check's inputs from the command line and the machine (and the --prepull gate): --require-images, --registry-ca
 * FILE (added to Node's CAs, with NODE_EXTRA_CA_CERTS), the operator's docker config
 * ($DOCKER_CONFIG/config.json, else ~/.docker/config.json). The registry client is built here: the
 * real default the preflight gets injected.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../errors.ts';
import { createRegistryClient } from '../images/registry-client.ts';
import type { ImageCheckOptions } from '../preflight/images.ts';
import type { Deps } from '../deps.ts';
import type { Gate } from '../engine/gates.ts';
import { prepull } from '../preflight/prepull.ts';
import type { Install, Plan } from '../engine/types.ts';

export function imageCheckOptions(a: {
  requireImages?: boolean | undefined;
  registryCa?: readonly string[] | undefined;
}): ImageCheckOptions {
  const ca = (a.registryCa ?? []).map((f) => {
    try {
      return fs.readFileSync(f, 'utf8');
    } catch (err) {
      throw new UsageError(
        `--registry-ca ${f} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        "Pass --registry-ca with the PEM file of the CA that signed the registry's certificate.",
      );
    }
  });
  const dockerConfig = path.join(process.env.DOCKER_CONFIG ?? path.join(os.homedir(), '.docker'), 'config.json');
  return { client: createRegistryClient({ ca }), require: Boolean(a.requireImages), dockerConfig };
}

/** --prepull: the gate after the Lease, before the first step (none without the flag). */
export function prepullGates(
  a: { prepull?: boolean | undefined },
  deps: Deps,
  run: { plan: Plan; install: Install; timeoutMs: number; signal: AbortSignal },
): Gate[] {
  if (!a.prepull) return [];
  return [
    {
      id: 'prepull',
      title: "Pre-pull the target's control-plane and sidecar images on every node (--prepull)",
      run: (progress) => prepull(deps, { ...run, progress }),
    },
  ];
}
