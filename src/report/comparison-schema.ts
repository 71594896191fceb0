import { z } from "zod";

/** `cutover compare`'s results: what was compared, the per-metric verdicts, and both sides' merged histograms. */
const intervalSchema = z.object({ low: z.number(), high: z.number() });

const boundSchema = z.object({
  kind: z.enum(["relative", "absolute"]),
  value: z.number().nonnegative(),
  text: z.string(),
});

export const metricComparisonSchema = z.object({
  metric: z.string(),
  unit: z.enum(["ms", "msg/s", "ratio", "count"]),
  lowerIsBetter: z.boolean(),
  baseline: z.object({ n: z.number().int().nonnegative(), median: z.number(), ci: intervalSchema }),
  candidate: z.object({ n: z.number().int().nonnegative(), median: z.number(), ci: intervalSchema }),
  /** Relative change; null when the baseline median is 0 (then only the absolute change means anything). */
  change: z.number().nullable(),
  changeCi: intervalSchema.nullable(),
  absoluteChange: z.number(),
  absoluteChangeCi: intervalSchema,
  p: z.number().min(0).max(1),
  method: z.enum(["exact", "normal"]),
  minEffect: boundSchema,
  verdict: z.enum(["better", "worse", "no significant difference", "no meaningful difference"]),
  excluded: z.array(z.string()),
});

const sideSchema = z.object({
  label: z.string(),
  driver: z.string(),
  stack: z.string(),
  files: z.array(z.string()),
  /** Per run, the values the verdicts were computed from. */
  runs: z.array(z.record(z.string(), z.number())),
  /** Histograms of all runs merged (HdrHistogram compressed base64, µs), for plotting both sides on one axis. */
  merged: z.record(z.string(), z.string()),
});

export const comparisonResultsSchema = z.object({
  kind: z.literal("cutover-comparison"),
  /** 2: relative changes may be null, absolute changes and minimum effects added. */
  version: z.literal(2),
  createdAt: z.string(),
  scenario: z.string(),
  interleaved: z.boolean(),
  baseline: sideSchema,
  candidate: sideSchema,
  metrics: z.array(metricComparisonSchema),
  sensitivity: z.object({
    runsPerSide: z.tuple([z.number(), z.number()]),
    smallestP: z.number(),
    canReachAlpha: z.boolean(),
    detectableShift: z.number().optional(),
    noiseCv: z.number(),
    note: z.string(),
  }),
  gate: z.array(z.object({ rule: z.string(), failed: z.boolean(), detail: z.string() })),
  caveats: z.array(z.string()),
});

export type ComparisonResults = z.infer<typeof comparisonResultsSchema>;
