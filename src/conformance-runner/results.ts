import { z } from "zod";

/** The conformance results file: the one source every conformance report (JUnit, Markdown, HTML) is built from. */
export const caseResultSchema = z.object({
  suite: z.string(),
  name: z.string(),
  fullName: z.string(),
  state: z.enum(["passed", "failed", "skipped"]),
  durationMs: z.number(),
  startedAt: z.number().optional(),
  /** What was expected and what the stack did, tokens redacted. */
  error: z.string().optional(),
  skipReason: z.string().optional(),
  /** Where the behaviour is read from (`server:<path> [symbol]`, `proto:…`, …), from the case's meta. */
  source: z.array(z.string()).optional(),
  /** Substrings of the server ERROR lines the case provokes on purpose, from the case's meta. */
  provokes: z.array(z.string()).optional(),
});

export const serverErrorSchema = z.object({
  process: z.string(),
  /** As the log wrote it (OpenIM: local time, no zone). */
  at: z.string().optional(),
  /** The whole entry on one line, credentials redacted, at most 4 KiB. */
  line: z.string(),
  /** Every case running when it was logged (suites run in parallel), most recently started first. */
  duringCase: z.string().optional(),
  level: z.string().optional(),
  /** Where the server logged it (`file.go:line`), when the log says. */
  caller: z.string().optional(),
  /** What went wrong, without the time, process and key/values around it. */
  message: z.string().optional(),
  /** The entry's key/values (operationID, error, …), credentials redacted, each at most 1 KiB. */
  fields: z.record(z.string(), z.string()).optional(),
  /** The case that provokes this error on purpose (its meta.provokes matched, logged while it ran). */
  explainedBy: z.string().optional(),
});

/** One distinct server error message: how often, where, and whether cases explain it. */
export const serverErrorGroupSchema = z.object({
  /** The message with ids, numbers and operationIDs normalised away: what the group is keyed by. */
  messageKey: z.string(),
  message: z.string(),
  count: z.number(),
  processes: z.array(z.string()),
  first: z.string().optional(),
  last: z.string().optional(),
  /** One whole line of the group, redacted. */
  example: z.string(),
  provokedCount: z.number(),
  unexplainedCount: z.number(),
});

export const conformanceResultsSchema = z.object({
  kind: z.literal("cutover-conformance"),
  version: z.literal(1),
  startedAt: z.string(),
  finishedAt: z.string(),
  target: z.object({
    stack: z.string(),
    nginx: z.string(),
    parts: z.array(z.object({ name: z.string(), what: z.string(), note: z.string().optional() })),
  }),
  caveats: z.array(z.string()),
  /** The target profile the suites ran with, each setting probed, configured or assumed (absent in older files). */
  profile: z
    .array(
      z.object({
        setting: z.string(),
        value: z.string(),
        how: z.enum(["probed", "configured", "assumed"]),
        detail: z.string(),
      }),
    )
    .optional(),
  suites: z.array(z.string()),
  cases: z.array(caseResultSchema),
  totals: z.object({ passed: z.number(), failed: z.number(), skipped: z.number() }),
  /** ERROR and panic lines the servers logged during the run: a case can pass while the server failed. */
  serverErrors: z.array(serverErrorSchema),
  /** The same errors grouped by message, unexplained first (absent in files written before grouping). */
  serverErrorGroups: z.array(serverErrorGroupSchema).optional(),
});

export type CaseResult = z.infer<typeof caseResultSchema>;
export type ServerError = z.infer<typeof serverErrorSchema>;
export type ServerErrorGroup = z.infer<typeof serverErrorGroupSchema>;
export type ConformanceResults = z.infer<typeof conformanceResultsSchema>;

/** How many errors the servers logged: the groups count every one, the list keeps at most a few thousand. */
export function serverErrorCounts(r: ConformanceResults): {
  total: number;
  unexplained: number;
  provoked: number;
} {
  const groups = r.serverErrorGroups;
  if (!groups) return { total: r.serverErrors.length, unexplained: r.serverErrors.length, provoked: 0 };
  const unexplained = groups.reduce((s, g) => s + g.unexplainedCount, 0);
  const provoked = groups.reduce((s, g) => s + g.provokedCount, 0);
  return { total: unexplained + provoked, unexplained, provoked };
}
