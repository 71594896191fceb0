import { z } from "zod";

/**
 * The few Prometheus HTTP API calls cutover makes (api/v1/query, query_range, targets): one
 * code path for the local stack's own Prometheus, the docker stack's and a team's.
 */
const sampleSchema = z.tuple([z.number(), z.string()]);
const seriesSchema = z.object({
  metric: z.record(z.string(), z.string()),
  value: sampleSchema.optional(),
  values: z.array(sampleSchema).optional(),
});
const answerSchema = z.object({
  status: z.string(),
  error: z.string().optional(),
  data: z.object({ resultType: z.string(), result: z.array(seriesSchema) }).optional(),
});

export type PromSeries = { labels: Record<string, string>; samples: Array<[timeSec: number, value: number]> };

export class PrometheusError extends Error {}

async function call(base: string, route: string, params: Record<string, string>): Promise<PromSeries[]> {
  const url = new URL(`api/v1/${route}`, base.endsWith("/") ? base : `${base}/`);
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      body: new URLSearchParams(params),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    throw new PrometheusError(`Prometheus at ${base} did not answer: ${(err as Error).message}`);
  }
  const parsed = answerSchema.safeParse(await res.json().catch(() => undefined));
  if (!parsed.success)
    throw new PrometheusError(`Prometheus at ${base}: HTTP ${res.status}, not its API's answer`);
  const { status, error, data } = parsed.data;
  if (status !== "success" || !data) throw new PrometheusError(`Prometheus at ${base}: ${error ?? status}`);
  return data.result.map((s) => ({
    labels: s.metric,
    samples: (s.values ?? (s.value ? [s.value] : [])).map(([t, v]) => [t, Number(v)]),
  }));
}

/** An instant query at `timeSec`. A range selector (`x[5m]`) returns the raw samples, not a computation. */
export function promQuery(base: string, query: string, timeSec: number): Promise<PromSeries[]> {
  return call(base, "query", { query, time: timeSec.toFixed(3) });
}

export function promQueryRange(
  base: string,
  query: string,
  startSec: number,
  endSec: number,
  stepSec: number,
): Promise<PromSeries[]> {
  return call(base, "query_range", {
    query,
    start: startSec.toFixed(3),
    end: endSec.toFixed(3),
    step: String(stepSec),
  });
}

const targetsSchema = z.object({
  data: z.object({
    activeTargets: z.array(
      z.object({
        labels: z.record(z.string(), z.string()),
        health: z.string(),
        lastScrape: z.string(),
        scrapeInterval: z.string().optional(),
        lastError: z.string().optional(),
      }),
    ),
  }),
});

export interface PromTarget {
  job: string;
  instance: string;
  health: string;
  lastScrapeMs: number;
  intervalSec: number;
  lastError: string;
}

export async function promTargets(base: string): Promise<PromTarget[]> {
  const url = new URL("api/v1/targets?state=active", base.endsWith("/") ? base : `${base}/`);
  const res = await fetch(url, { signal: AbortSignal.timeout(15_000) }).catch((err: Error) => {
    throw new PrometheusError(`Prometheus at ${base} did not answer: ${err.message}`);
  });
  const parsed = targetsSchema.safeParse(await res.json().catch(() => undefined));
  if (!parsed.success) throw new PrometheusError(`Prometheus at ${base}: no targets in its answer`);
  return parsed.data.data.activeTargets.map((t) => ({
    job: t.labels.job ?? "",
    instance: t.labels.instance ?? "",
    health: t.health,
    lastScrapeMs: Date.parse(t.lastScrape),
    intervalSec: parseDurationSec(t.scrapeInterval ?? "15s"),
    lastError: t.lastError ?? "",
  }));
}

/** Prometheus durations as its targets API writes them: "1s", "15s", "1m", "1m30s". */
export function parseDurationSec(text: string): number {
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
    const factor = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 }[unit as "ms" | "s" | "m" | "h" | "d"];
    total += Number(n) * factor;
  }
  return total || 15;
}
