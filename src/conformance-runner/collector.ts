import path from "node:path";
import type { Reporter, TestCase, TestModule } from "vitest/node";
import { redact } from "../util/redact.js";
import type { CaseResult } from "./results.js";

const suiteOf = (moduleId: string) => path.basename(moduleId).replace(/\.test\.ts$/, "");

/** A meta list as a case declared it; anything else (absent, empty, mistyped) is left out of the results. */
function stringList(value: unknown): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  return value.every((v): v is string => typeof v === "string") ? value : undefined;
}

/**
 * `source` and `provokes` come from conformance/support/case-meta.ts, which augments vitest's TaskMeta
 * only where the suites are compiled; the CLI build reads them as unknown and checks them.
 */
function caseMeta(test: TestCase): Pick<CaseResult, "source" | "provokes"> {
  const meta: Record<string, unknown> = { ...test.meta() };
  const source = stringList(meta.source);
  const provokes = stringList(meta.provokes);
  return { ...(source ? { source } : {}), ...(provokes ? { provokes } : {}) };
}

function toResult(test: TestCase): CaseResult {
  const result = test.result();
  const diagnostic = test.diagnostic();
  const base = {
    suite: suiteOf(test.module.moduleId),
    name: test.name,
    fullName: test.fullName,
    durationMs: diagnostic?.duration ?? 0,
    startedAt: diagnostic?.startTime,
    ...caseMeta(test),
  };
  if (result.state === "failed") {
    const error = (result.errors ?? [])
      .map((e) => [e.message, e.diff].filter(Boolean).join("\n"))
      .join("\n---\n");
    return { ...base, state: "failed", error: redact(error || "failed") };
  }
  if (result.state === "passed") return { ...base, state: "passed" };
  const note = "note" in result && typeof result.note === "string" ? result.note : undefined;
  return { ...base, state: "skipped", skipReason: note ?? "skipped without a reason (a bug in the suite)" };
}

/** How far a conformance run has come: what a person watching a long run wants to see. */
export interface SuiteProgress {
  /** The suite that just finished, with its own counts. */
  suite: string;
  suiteCounts: { passed: number; failed: number; skipped: number; durationMs: number };
  suitesDone: number;
  suitesTotal: number;
  /** Cases finished so far across all suites. */
  totals: { passed: number; failed: number; skipped: number };
}

/** A vitest reporter that keeps every case's outcome for cutover's own results file. */
export class CaseCollector implements Reporter {
  readonly cases: CaseResult[] = [];
  readonly unhandled: string[] = [];
  private readonly totals = { passed: 0, failed: 0, skipped: 0 };
  private suitesDone = 0;

  constructor(
    private readonly suitesTotal = 0,
    private readonly onProgress?: (progress: SuiteProgress) => void,
  ) {}

  onTestCaseResult(test: TestCase): void {
    const state = test.result().state;
    if (state === "passed" || state === "failed" || state === "skipped") this.totals[state] += 1;
  }

  onTestModuleEnd(module: TestModule): void {
    this.suitesDone += 1;
    const counts = { passed: 0, failed: 0, skipped: 0, durationMs: module.diagnostic().duration };
    for (const test of module.children.allTests()) {
      const state = test.result().state;
      if (state === "passed" || state === "failed" || state === "skipped") counts[state] += 1;
    }
    this.onProgress?.({
      suite: suiteOf(module.moduleId),
      suiteCounts: counts,
      suitesDone: this.suitesDone,
      suitesTotal: this.suitesTotal,
      totals: { ...this.totals },
    });
  }

  onTestRunEnd(
    modules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<{ message?: string }>,
  ): void {
    for (const module of modules) {
      for (const test of module.children.allTests()) this.cases.push(toResult(test));
      // A failed beforeAll leaves its cases "skipped"; the run must fail loudly, naming the setup error.
      const setupErrors = [
        ...module.errors(),
        ...[...module.children.allSuites()].flatMap((suite) => suite.errors()),
      ];
      if (setupErrors.length > 0) {
        this.cases.push({
          suite: suiteOf(module.moduleId),
          name: "(suite setup)",
          fullName: `${suiteOf(module.moduleId)} suite setup failed`,
          state: "failed",
          durationMs: 0,
          error: redact(setupErrors.map((e) => e.message).join("; ")),
        });
      }
    }
    for (const e of unhandledErrors) this.unhandled.push(redact(e.message ?? String(e)));
  }
}
