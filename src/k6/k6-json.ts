import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { UsageError } from "../util/errors.js";

/**
 * k6's `--out json` file: one JSON object per line, a `Metric` line declaring each metric
 * before its first `Point` line (grafana/k6 internal/output/json/wrapper.go: sampleEnvelope
 * {metric, type:"Point", data:{time, value, tags, metadata?}} and metricEnvelope {type:"Metric",
 * metric, data:{name, type, contains, thresholds, submetrics}}). A `.gz` name means gzip, as
 * k6 writes it; the gzip magic is also recognised whatever the name.
 */

export type K6MetricType = "counter" | "gauge" | "trend" | "rate";

export interface K6MetricDecl {
  name: string;
  type: K6MetricType;
  /** "time" for durations (ms), "data" for bytes, "default" otherwise. */
  contains: string;
  /** The script's threshold expressions for this metric, as k6 wrote them ("p(99)<200"). */
  thresholds: string[];
  file: string;
  line: number;
}

export interface K6Point {
  metric: string;
  /** ms since the epoch. */
  time: number;
  value: number;
  tags: Record<string, string>;
}

export interface K6FileVisitor {
  metric(decl: K6MetricDecl): void;
  point(p: K6Point, decl: K6MetricDecl): void;
}

const METRIC_TYPES = new Set<string>(["counter", "gauge", "trend", "rate"]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function fileText(file: string): string {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  if (raw[0] !== 0x1f || raw[1] !== 0x8b) return raw.toString("utf8");
  try {
    return gunzipSync(raw).toString("utf8");
  } catch {
    // A runner killed mid-write leaves a gzip stream without its end: keep what inflated.
    try {
      return gunzipSync(raw, { finishFlush: 2 /* Z_SYNC_FLUSH */ }).toString("utf8");
    } catch (err) {
      throw new UsageError(`${file}: not a readable gzip file (${(err as Error).message})`);
    }
  }
}

/**
 * Reads one k6 JSON file line by line into `visit`. A line that is not k6's (bad JSON in the
 * middle, a wrong shape, a Point of an undeclared metric) is a UsageError naming file and
 * line; a last line cut short (a killed runner) is returned as a warning and skipped.
 */
export function readK6File(file: string, visit: K6FileVisitor): { warnings: string[]; points: number } {
  const lines = fileText(file).split("\n");
  // A file ends with "\n": the empty string after it is not a line.
  while (lines.length > 0 && (lines[lines.length - 1] ?? "").trim() === "") lines.pop();
  if (lines.length === 0) throw new UsageError(`${file}: empty — not k6 --out json output`);
  const decls = new Map<string, K6MetricDecl>();
  const warnings: string[] = [];
  let points = 0;
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const text = lines[i] ?? "";
    const where = `${file}:${lineNo}`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      if (i === lines.length - 1 && i > 0) {
        warnings.push(
          `${where}: last line is cut short (a runner stopped mid-write?); the ${i} lines before it are used`,
        );
        break;
      }
      throw new UsageError(`${where}: not JSON — not k6 --out json output (${text.slice(0, 60)})`);
    }
    if (!isObject(parsed) || (parsed.type !== "Metric" && parsed.type !== "Point"))
      throw new UsageError(`${where}: not a k6 JSON line (expected {"type":"Metric"|"Point",…})`);
    const metric = parsed.metric;
    const data = parsed.data;
    if (typeof metric !== "string" || metric === "" || !isObject(data))
      throw new UsageError(`${where}: a k6 ${parsed.type} line needs "metric" and "data"`);
    if (parsed.type === "Metric") {
      const type = data.type;
      if (typeof type !== "string" || !METRIC_TYPES.has(type))
        throw new UsageError(
          `${where}: metric ${metric} has type ${JSON.stringify(type)} (counter, gauge, trend, rate)`,
        );
      // A threshold is its source string, or {threshold, abortOnFail, …} when abortOnFail is set
      // (grafana/k6 metrics/thresholds.go thresholdConfig.MarshalJSON).
      const thresholds: string[] = [];
      for (const t of Array.isArray(data.thresholds) ? data.thresholds : []) {
        if (typeof t === "string") thresholds.push(t);
        else if (isObject(t) && typeof t.threshold === "string") thresholds.push(t.threshold);
      }
      const decl: K6MetricDecl = {
        name: metric,
        type: type as K6MetricType,
        contains: typeof data.contains === "string" ? data.contains : "default",
        thresholds,
        file,
        line: lineNo,
      };
      decls.set(metric, decl);
      visit.metric(decl);
      continue;
    }
    const decl = decls.get(metric);
    if (!decl)
      throw new UsageError(`${where}: a Point of metric ${metric}, which no Metric line before it declares`);
    const time = typeof data.time === "string" ? Date.parse(data.time) : Number.NaN;
    if (!Number.isFinite(time))
      throw new UsageError(`${where}: data.time ${JSON.stringify(data.time)} is not a time`);
    if (typeof data.value !== "number" || !Number.isFinite(data.value))
      throw new UsageError(`${where}: data.value ${JSON.stringify(data.value)} is not a number`);
    const tags: Record<string, string> = {};
    if (isObject(data.tags)) for (const [k, v] of Object.entries(data.tags)) tags[k] = String(v);
    visit.point({ metric, time, value: data.value, tags }, decl);
    points++;
  }
  return { warnings, points };
}
