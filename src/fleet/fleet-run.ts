/**
 * What every part of a fleet's run shares (run.ts): its input, the clusters by context, the record
 * writer (fleet.json) and the event writer (-o json), built once per run.
 */
import type { FleetDeps } from '../deps.ts';
import type { ListOutput } from '../engine/gates.ts';
import { scrub } from '../secret.ts';
import type { ClusterRunSettings } from './cluster-args.ts';
import { writeFleetState, type ClusterRecord, type FleetState } from './state.ts';
import type { ClusterCheck } from './survey.ts';
import type { ClusterSurvey, FleetCluster, FleetEventBody, FleetPlan } from './types.ts';

export interface FleetRunInput extends ListOutput {
  fleetDir: string;
  plan: FleetPlan;
  /** Updated and written to fleet.json as clusters start and end. */
  state: FleetState;
  verbose: number;
  /** Aborted by the first Ctrl-C: no cluster or wave starts any more, the soak ends. */
  signal: AbortSignal;
  /** The cluster read again after its run and after the soak (checkCluster). */
  check: (c: FleetCluster) => Promise<ClusterCheck>;
}

export interface FleetRun {
  fd: FleetDeps;
  input: FleetRunInput;
  byContext: ReadonlyMap<string, FleetCluster>;
  surveys: ReadonlyMap<string, ClusterSurvey>;
  /** The settings every cluster's run gets (cluster-args.ts). */
  settings: ClusterRunSettings;
  /** Writes a cluster's record to fleet.json (one write at a time). */
  record: (context: string, record: Omit<ClusterRecord, 'at'>) => Promise<void>;
  /** Emits a fleet event (-o json only). */
  event: (e: FleetEventBody) => void;
  now: () => string;
}

export function fleetRun(fd: FleetDeps, input: FleetRunInput): FleetRun {
  const { plan, state, fleetDir } = input;
  const now = () => new Date(fd.clock.now()).toISOString();
  return {
    fd,
    input,
    now,
    byContext: new Map(state.spec.clusters.map((c) => [c.context, c])),
    surveys: new Map(plan.clusters.map((s) => [s.context, s])),
    settings: {
      to: state.spec.to,
      fleetDir,
      timeout: state.settings.timeout,
      labelNamespaces: state.settings.labelNamespaces,
      onFailure: state.settings.onFailure,
      verbose: input.verbose,
    },
    record: stateWriter(fd, fleetDir, state),
    event: (e) => {
      if (input.output === 'json') input.emit(scrub(JSON.stringify({ at: now(), ...e })));
    },
  };
}

/** Fleet.json writes, one at a time (each writes the whole record as it is then). */
function stateWriter(fd: FleetDeps, dir: string, state: FleetState) {
  let queue: Promise<void> = Promise.resolve();
  return (context: string, record: Omit<ClusterRecord, 'at'>): Promise<void> => {
    state.clusters[context] = { ...record, at: new Date(fd.clock.now()).toISOString() };
    const snapshot = JSON.parse(JSON.stringify(state)) as FleetState;
    queue = queue.then(() => writeFleetState(fd.fs, dir, snapshot));
    return queue;
  };
}
