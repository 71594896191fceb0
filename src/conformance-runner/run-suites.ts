import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { startVitest } from "vitest/node";
import { describeEnvironment } from "../run/environment.js";
import type { StackEndpoints } from "../stack/endpoints.js";
import { CutoverError, EXIT } from "../util/errors.js";
import { packageRoot } from "../util/package-root.js";
import { CaseCollector, type SuiteProgress } from "./collector.js";
import { findingLines, probeProfile } from "./probe-profile.js";
import type { TargetProfile } from "./profile.js";
import type { ConformanceResults } from "./results.js";
import { collectServerErrors, snapshotLogs } from "./server-logs.js";

export function availableSuites(): string[] {
  const dir = path.join(packageRoot(), "conformance");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".test.ts"))
    .map((f) => f.replace(/\.test\.ts$/, ""))
    .sort();
}

export interface RunSuitesOptions {
  endpoints: StackEndpoints;
  runDir?: string;
  profile: TargetProfile;
  /** The profile settings the config states outright; a probe that disagrees is said in the results. */
  profileSet?: Partial<TargetProfile>;
  /** false: take `profile` as it is, probing nothing (unit tests of the runner). */
  probe?: boolean;
  suites?: string[];
  /** Only cases whose full name matches (a regular expression). */
  grep?: string;
  /** Show vitest's own progress on stdout. */
  verbose?: boolean;
  /** Called as each suite finishes. */
  onProgress?: (progress: SuiteProgress) => void;
}

/**
 * The suites a run asks for (all when none named); an unknown name is a usage error, before anything
 * starts. A name with no suite of its own stands for the suites named `<name>-…`, so the name of a
 * suite that was split by feature keeps working: `websocket` runs websocket-frames,
 * websocket-handshake and websocket-sessions.
 */
export function resolveSuites(suites: string[] | undefined): string[] {
  const all = availableSuites();
  const wanted = suites && suites.length > 0 ? suites : all;
  const expand = (name: string) =>
    all.includes(name) ? [name] : all.filter((s) => s.startsWith(`${name}-`));
  const unknown = wanted.filter((s) => expand(s).length === 0);
  if (unknown.length > 0)
    throw new CutoverError(`unknown suite ${unknown.join(", ")} (available: ${all.join(", ")})`, EXIT.usage);
  return [...new Set(wanted.flatMap(expand))];
}

/** Runs the conformance suites (vitest files under conformance/) against a stack's endpoints. */
export async function runSuites(opts: RunSuitesOptions): Promise<ConformanceResults> {
  const wanted = resolveSuites(opts.suites);

  const root = packageRoot();
  const probed =
    opts.probe === false
      ? { profile: opts.profile, findings: [] }
      : await probeProfile({
          endpoints: opts.endpoints,
          profile: opts.profile,
          ...(opts.profileSet ? { explicit: opts.profileSet } : {}),
          ...(opts.runDir ? { runDir: opts.runDir } : {}),
        });
  const collector = new CaseCollector(wanted.length, opts.onProgress);
  const snapshot = opts.runDir && existsSync(opts.runDir) ? snapshotLogs(opts.runDir) : undefined;
  const startedAt = new Date();
  const vitest = await startVitest(
    "test",
    [],
    {
      root,
      config: false,
      watch: false,
      include: wanted.map((s) => `conformance/${s}.test.ts`),
      reporters: opts.verbose ? [collector, "default"] : [collector],
      provide: { endpoints: opts.endpoints, runDir: opts.runDir ?? "", profile: probed.profile },
      testTimeout: 30_000,
      hookTimeout: 60_000,
      passWithNoTests: false,
      ...(opts.grep ? { testNamePattern: opts.grep } : {}),
    },
    { logLevel: opts.verbose ? "info" : "silent" },
  );
  await vitest.close();
  const cases = collector.cases;
  if (collector.unhandled.length > 0) {
    cases.push({
      suite: "runner",
      name: "unhandled errors",
      fullName: "errors outside any case",
      state: "failed",
      durationMs: 0,
      error: collector.unhandled.join("\n"),
    });
  }
  const serverLog =
    snapshot && opts.runDir
      ? await collectServerErrors(opts.runDir, snapshot, cases)
      : { errors: [], groups: [] };
  const env = describeEnvironment(opts.endpoints, probed.profile);
  return {
    kind: "cutover-conformance",
    version: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    target: { stack: opts.endpoints.stack, nginx: opts.endpoints.nginx, parts: opts.endpoints.parts },
    caveats: [...env.caveats, ...findingLines(probed.findings)],
    profile: probed.findings,
    suites: wanted,
    cases,
    totals: {
      passed: cases.filter((c) => c.state === "passed").length,
      failed: cases.filter((c) => c.state === "failed").length,
      skipped: cases.filter((c) => c.state === "skipped").length,
    },
    serverErrors: serverLog.errors,
    serverErrorGroups: serverLog.groups,
  };
}
