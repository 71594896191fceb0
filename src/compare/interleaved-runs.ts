import { spawn } from "node:child_process";
import path from "node:path";
import pc from "picocolors";
import { CutoverError, EXIT } from "../util/errors.js";

/** Runs `cutover load` as a child process: a fresh process per run keeps runs independent. */
function runLoad(scenario: string, driver: string, out: string, loadArgs: string[]): Promise<void> {
  const args = [
    ...process.execArgv,
    process.argv[1] ?? "",
    "load",
    scenario,
    "--driver",
    driver,
    "--out",
    out,
    ...loadArgs,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "inherit"] });
    child.once("error", reject);
    child.once("close", (code) => {
      // 99 means a scenario threshold was crossed: the run still produced comparable results.
      if (code === 0 || code === 99) resolve();
      else
        reject(
          new CutoverError(
            `cutover load ${scenario} --driver ${driver} failed (exit ${code})`,
            code === 3 ? EXIT.stack : EXIT.failures,
          ),
        );
    });
  });
}

export interface InterleavedRunsOptions {
  scenario: string;
  runs: number;
  baselineDriver: string;
  candidateDriver: string;
  outDir: string;
  /** Extra `cutover load` flags (rate, duration, run dir, …). */
  loadArgs: string[];
}

/** A B A B …: alternating the sides spreads slow drifts of the machine over both equally. */
export async function interleavedRuns(
  o: InterleavedRunsOptions,
): Promise<{ baseline: string[]; candidate: string[] }> {
  const baseline: string[] = [];
  const candidate: string[] = [];
  for (let i = 1; i <= o.runs; i++) {
    for (const [side, driver, files] of [
      ["baseline", o.baselineDriver, baseline],
      ["candidate", o.candidateDriver, candidate],
    ] as const) {
      const out = path.join(o.outDir, `${side}-${driver}-${i}`);
      process.stderr.write(`${pc.dim(`run ${i}/${o.runs} ${side} (${driver})…`)}\n`);
      await runLoad(o.scenario, driver, out, o.loadArgs);
      files.push(path.join(out, "results.json"));
    }
  }
  return { baseline, candidate };
}
