import { existsSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

/**
 * A local stack's Prometheus finds a running `cutover load` through file-based service
 * discovery: it watches `<run dir>/prometheus/targets/*.json`, and the load writes its own
 * file there while it serves its metrics, and removes it when it stops.
 */

/** The folder a local stack's Prometheus watches, when this run dir has one. */
export function metricsTargetsDir(runDir: string): string | undefined {
  const dir = path.join(path.resolve(runDir), "prometheus", "targets");
  try {
    return statSync(dir).isDirectory() ? dir : undefined;
  } catch {
    return undefined;
  }
}

export interface MetricsTargetFile {
  file: string;
  /** Idempotent; also done at process exit should the run end some other way. */
  remove(): void;
}

/**
 * Writes `cutover-<pid>.json` naming 127.0.0.1:`port` as a target of job `cutover`; first removes
 * the files of loads that are gone without removing theirs (killed), so no dead target stays listed.
 */
export function writeMetricsTarget(dir: string, port: number, pid = process.pid): MetricsTargetFile {
  for (const name of readdirSync(dir)) {
    const other = Number(/^cutover-(\d+)\.json$/.exec(name)?.[1]);
    if (other && other !== pid && !alive(other)) rmSync(path.join(dir, name), { force: true });
  }
  const file = path.join(dir, `cutover-${pid}.json`);
  const body = `${JSON.stringify([{ targets: [`127.0.0.1:${port}`], labels: { job: "cutover" } }])}\n`;
  // Prometheus reads the folder as files change: it must never see half a file (the temporary name matches no *.json).
  const tmp = path.join(dir, `.cutover-${pid}.json.tmp`);
  writeFileSync(tmp, body);
  renameSync(tmp, file);
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    process.off("exit", remove);
    if (existsSync(file)) rmSync(file, { force: true });
  };
  process.on("exit", remove);
  return { file, remove };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
