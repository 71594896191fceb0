import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type ComparedFiles, compareFiles } from "../compare/compare-files.js";
import { interleavedRuns } from "../compare/interleaved-runs.js";
import type { CutoverConfig } from "../config/schema.js";
import type { SuiteProgress } from "../conformance-runner/collector.js";
import { conformanceJunit } from "../conformance-runner/junit.js";
import { type ConformanceResults, serverErrorCounts } from "../conformance-runner/results.js";
import { runSuites } from "../conformance-runner/run-suites.js";
import type { RunResults } from "../report/run-schema.js";
import { conformanceView } from "../report/view-model.js";
import { writeReports } from "../report/write-reports.js";
import { writeRunReport } from "../report/write-run-report.js";
import { acquireStack } from "../stack/acquire.js";
import type { HealthCheck } from "../stack/health-check.js";
import { runDirLayout } from "../stack/local/layout.js";
import { checkLocalHealth } from "../stack/local/local-health.js";
import { readState } from "../stack/local/state.js";
import type { ProgressSink } from "../stack/progress.js";
import type { Bound } from "../stats/effect.js";
import type { GateRule } from "../stats/gate.js";
import { EXIT, errorMessage } from "../util/errors.js";
import { cutoverVersion } from "../util/package-root.js";
import { describeEnvironment } from "./environment.js";
import { newResultsDir, writeJsonAtomic } from "./results-file.js";

/**
 * `cutover run` as a library call: the stack up, every component checked, the conformance
 * suites on OpenIM, legacy vs OpenIM compared with interleaved runs, one report for all of it.
 * run.json is written after every step, so an interrupted run still says how far it got.
 */
export interface MainJobOptions {
  config: CutoverConfig;
  runDir: string;
  /** The run's folder is made inside this one. */
  outRoot: string;
  suites: string[];
  comparison: { runs: number; rate: string; duration: string; users: string; configFile?: string };
  gate: GateRule[];
  minEffect: Readonly<Record<string, Bound>>;
  keep: boolean;
  argv: string[];
  events?: MainJobEvents;
}

export interface MainJobEvents {
  stackProgress?: ProgressSink;
  started?: (dir: string) => void;
  health?: (checks: HealthCheck[]) => void;
  conformanceStarted?: (suites: string[]) => void;
  suiteProgress?: (p: SuiteProgress) => void;
  conformance?: (r: ConformanceResults) => void;
  comparison?: (c: ComparedFiles) => void;
}

export interface MainJob {
  done: Promise<{ results: RunResults; index: string; exitCode: number }>;
  /** Stop now: run.json and the report say "interrupted"; resolves when they are written. */
  interrupt(): Promise<void>;
}

export function startMainJob(o: MainJobOptions): MainJob {
  const ev = o.events ?? {};
  const startedAt = new Date();
  const dir = newResultsDir(o.outRoot, startedAt, "run");
  const file = path.join(dir, "run.json");
  const index = path.join(dir, "index.html");
  const results: RunResults = {
    kind: "cutover-run",
    version: 1,
    status: "running",
    startedAt: startedAt.toISOString(),
    argv: o.argv,
    cutoverVersion: cutoverVersion(),
  };
  const save = () => writeJsonAtomic(file, results);
  save();
  ev.started?.(dir);
  let release: (() => Promise<void>) | undefined;
  const finish = async (status: RunResults["status"], error?: string) => {
    results.status = status;
    results.finishedAt = new Date().toISOString();
    if (error) results.error = error;
    save();
    writeRunReport(file, results);
    if (!o.keep) await release?.();
  };

  const done = (async () => {
    const stack = await acquireStack(o.config, o.runDir, ev.stackProgress ?? (() => {}), { keep: o.keep });
    release = stack.release;
    try {
      results.environment = describeEnvironment(stack.endpoints);
      const state = stack.health ? undefined : readState(runDirLayout(o.runDir).state);
      results.health = stack.health ? await stack.health() : state ? await checkLocalHealth(state) : [];
      save();
      ev.health?.(results.health);

      ev.conformanceStarted?.(o.suites);
      const conformance = await runSuites({
        endpoints: stack.endpoints,
        runDir: o.runDir,
        profile: stack.profile,
        ...(stack.profileSet ? { profileSet: stack.profileSet } : {}),
        suites: o.suites,
        ...(ev.suiteProgress ? { onProgress: ev.suiteProgress } : {}),
      });
      const conformanceFile = path.join(dir, "conformance.json");
      writeJsonAtomic(conformanceFile, conformance);
      writeFileSync(path.join(dir, "conformance.junit.xml"), conformanceJunit(conformance));
      writeReports(conformanceView(conformance), [conformanceFile], {
        html: path.join(dir, "conformance.html"),
        md: path.join(dir, "conformance.md"),
      });
      results.conformance = {
        file: conformanceFile,
        totals: conformance.totals,
        serverErrors: serverErrorCounts(conformance).total,
      };
      save();
      ev.conformance?.(conformance);

      const compareDir = path.join(dir, "compare");
      mkdirSync(compareDir, { recursive: true });
      const c = o.comparison;
      const loadArgs = [
        "--rate",
        c.rate,
        "--duration",
        c.duration,
        "--users",
        c.users,
        "--run-dir",
        o.runDir,
      ];
      if (c.configFile) loadArgs.push("--config", c.configFile);
      const files = await interleavedRuns({
        scenario: "direct-chat",
        runs: c.runs,
        baselineDriver: "legacy",
        candidateDriver: "openim",
        outDir: compareDir,
        loadArgs,
      });
      const compared = compareFiles({
        baselineFiles: files.baseline,
        candidateFiles: files.candidate,
        interleaved: true,
        gate: o.gate,
        minEffect: o.minEffect,
        outDir: compareDir,
      });
      ev.comparison?.(compared);
      const gateFailed = compared.comparison.gate.some((g) => g.failed);
      results.comparison = {
        file: compared.file,
        reports: compared.reports,
        verdicts: Object.fromEntries(compared.comparison.metrics.map((m) => [m.metric, m.verdict])),
        gateFailed,
        note: compared.comparison.sensitivity.note,
      };
      const failed = results.health.some((h) => !h.ok) || conformance.totals.failed > 0;
      await finish(failed || gateFailed ? "failed" : "passed");
      return { results, index, exitCode: failed ? EXIT.failures : gateFailed ? EXIT.thresholds : EXIT.ok };
    } catch (err) {
      await finish("failed", errorMessage(err));
      throw err;
    }
  })();

  return { done, interrupt: () => finish("interrupted") };
}
