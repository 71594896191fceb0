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
});

export const serverErrorSchema = z.object({
  process: z.string(),
  at: z.string().optional(),
  line: z.string(),
  duringCase: z.string().optional(),
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
  suites: z.array(z.string()),
  cases: z.array(caseResultSchema),
  totals: z.object({ passed: z.number(), failed: z.number(), skipped: z.number() }),
  /** ERROR and panic lines the servers logged during the run: a case can pass while the server failed. */
  serverErrors: z.array(serverErrorSchema),
});

export type CaseResult = z.infer<typeof caseResultSchema>;
export type ServerError = z.infer<typeof serverErrorSchema>;
export type ConformanceResults = z.infer<typeof conformanceResultsSchema>;
