/** The data plane, for the CLI and the upgrade executor: the skew report and the restart. */
export { skewReport, skewDetail, type SkewOptions } from './skew-report.ts';
export type { SkewReport, WorkloadSkew } from './skew.ts';
export type { ControlPlane, Component } from './control-plane.ts';
export {
  restartWorkloads,
  planWorkloadRestart,
  type RestartOptions,
  type RestartResult,
  type RestartProgress,
  type Outcome,
} from './restart.ts';
export type { RestartMode, Skipped } from './restart-plan.ts';
export { formatSkewText, formatRestartText, formatRestartPlanText, restartUnresolved } from './format.ts';
export { createRecorder, type RestartRecord } from './restart-record.ts';
