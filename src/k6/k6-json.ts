import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { createInterface } from "node:readline";
import { createGunzip, constants as zlibConstants } from "node:zlib";
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

/** The file's lines, gunzipped when it starts with gzip's magic, read as a stream (runner files get large). */
async function* fileLines(file: string, onCutGzip: () => void): AsyncGenerator<string> {
  let head: Buffer;
  try {
    const fd = await open(file, "r");
    try {
      head = Buffer.alloc(2);
      await fd.read(head, 0, 2, 0);
    } finally {
      await fd.close();
    }
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const raw = createReadStream(file);
  const gzipped = head[0] === 0x1f && head[1] === 0x8b;
  // A runner killed mid-write leaves a gzip stream without its end: keep what inflated.
  const gunzip = gzipped ? createGunzip({ finishFlush: zlibConstants.Z_SYNC_FLUSH }) : undefined;
  const source = gunzip ? raw.pipe(gunzip) : raw;
  let cut = false;
  gunzip?.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "Z_BUF_ERROR")
      throw new UsageError(`${file}: not a readable gzip file (${err.message})`);
    cut = true;
    gunzip.end();
  });
  const lines = createInterface({ input: source, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) yield line;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${file}: ${(err as Error).message}`);
  }
  if (cut) onCutGzip();
}

export async function readK6File(
  file: string,
  visit: K6FileVisitor,
): Promise<{ warnings: string[]; points: number; lines: number }> {
  const decls = new Map<string, K6MetricDecl>();
  const warnings: string[] = [];
  let points = 0;
  const take = (text: string, at: number, last: boolean): void => {
    const where = `${file}:${at}`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      if (last && at > 1) {
        warnings.push(
          `${where}: last line is cut short (a runner stopped mid-write?); the ${at - 1} lines before it are used`,
        );
        return;
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
        line: at,
      };
      decls.set(metric, decl);
      visit.metric(decl);
      return;
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
  };
  let lineNo = 0;
  // One line is held back until the next arrives: only the last line may be cut short.
  let held: { text: string; lineNo: number } | undefined;
  let cutGzip = false;
  for await (const text of fileLines(file, () => {
    cutGzip = true;
  })) {
    lineNo++;
    if (text.trim() === "") continue;
    if (held) take(held.text, held.lineNo, false);
    held = { text, lineNo };
  }
  if (!held) throw new UsageError(`${file}: empty — not k6 --out json output`);
  take(held.text, held.lineNo, true);
  if (cutGzip)
    warnings.push(`${file}: the gzip stream ends early (a runner stopped mid-write?); what inflated is used`);
  return { warnings, points, lines: held.lineNo };
}
