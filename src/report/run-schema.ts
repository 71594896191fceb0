import { z } from "zod";
import { environmentSchema } from "./results-schema.js";

/**
 * `cutover run`'s own results file (run.json): what the main job did, step by step, and where
 * the files of each step are. Written as the run goes, so an interrupted run still says how far it got.
 */
const healthCheckSchema = z.object({
  name: z.string(),
  ok: z.boolean(),
  detail: z.string(),
  skipped: z.boolean().optional(),
});

export const runResultsSchema = z.object({
  kind: z.literal("cutover-run"),
  version: z.literal(1),
  status: z.enum(["running", "passed", "failed", "interrupted"]),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  /** The command line as given, for rerunning. */
  argv: z.array(z.string()).optional(),
  cutoverVersion: z.string().optional(),
  environment: environmentSchema
    .extend({ startedByCutover: z.boolean(), generatorSharesMachine: z.boolean() })
    .optional(),
  health: z.array(healthCheckSchema).optional(),
  conformance: z
    .object({
      file: z.string(),
      totals: z.object({ passed: z.number(), failed: z.number(), skipped: z.number() }),
      serverErrors: z.number(),
    })
    .optional(),
  comparison: z
    .object({
      file: z.string(),
      reports: z.array(z.string()),
      verdicts: z.record(z.string(), z.string()),
      gateFailed: z.boolean(),
      note: z.string(),
    })
    .optional(),
  /** What stopped the run, when something did. */
  error: z.string().optional(),
});

export type RunResults = z.infer<typeof runResultsSchema>;
