import { mkdirSync } from "node:fs";
import path from "node:path";

/** Where a run directory keeps each thing; one place so `up`, `down` and `status` agree. */
export interface RunDirLayout {
  root: string;
  state: string;
  config: string;
  openimConfig: string;
  logs: string;
  openimLogs: string;
  data: string;
  nginx: string;
  /** Prometheus's config; cutover load drops its scrape target in `targets/` (file_sd). */
  prometheus: string;
  prometheusTargets: string;
}

export function runDirLayout(runDir: string): RunDirLayout {
  const root = path.resolve(runDir);
  return {
    root,
    state: path.join(root, "state.json"),
    config: path.join(root, "config"),
    openimConfig: path.join(root, "config", "openim"),
    logs: path.join(root, "logs"),
    openimLogs: path.join(root, "logs", "openim"),
    data: path.join(root, "data"),
    nginx: path.join(root, "nginx"),
    prometheus: path.join(root, "prometheus"),
    prometheusTargets: path.join(root, "prometheus", "targets"),
  };
}

export function createRunDir(layout: RunDirLayout): void {
  for (const dir of [
    layout.config,
    layout.openimConfig,
    layout.logs,
    layout.openimLogs,
    layout.data,
    layout.nginx,
    layout.prometheusTargets,
  ]) {
    mkdirSync(dir, { recursive: true });
  }
}
