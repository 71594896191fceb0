import { type PromSeries, promQueryRange } from "./prom-api.js";

/** One server process as its own metrics describe it over a run (Go and process collectors). */
export interface ServerProcess {
  job: string;
  instance: string;
  rssStartMB: number | null;
  rssEndMB: number | null;
  rssMaxMB: number | null;
  /** Mean and peak CPU in cores (1 = one core busy). */
  cpuMean: number | null;
  cpuMax: number | null;
  goroutinesMax: number | null;
  gcPerMinute: number | null;
}

export interface ServerResources {
  stepSec: number;
  processes: ServerProcess[];
  /** Total RSS per job over time, MB: the soak's "server memory over time". */
  memory: Array<{ job: string; points: Array<[offsetSec: number, mb: number]> }>;
}

const MB = 1024 * 1024;
const key = (s: PromSeries) => `${s.labels.job ?? "?"}|${s.labels.instance ?? "?"}`;
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** Every scraped process but Prometheus itself and cutover: whatever the stack is made of. */
const SERVERS = '{job!~"prometheus|cutover"}';

export async function readServerResources(
  prometheus: string,
  fromSec: number,
  toSec: number,
  intervalSec: number,
): Promise<ServerResources> {
  // At most ~300 points per series, never finer than the scrape.
  const step = Math.max(intervalSec, Math.ceil((toSec - fromSec) / 300));
  const rateWindow = `${Math.max(4 * intervalSec, 2 * step)}s`;
  const q = (query: string) => promQueryRange(prometheus, query, fromSec, toSec, step);
  const [rss, cpu, goroutines, gc, memory] = await Promise.all([
    q(`process_resident_memory_bytes${SERVERS}`),
    q(`rate(process_cpu_seconds_total${SERVERS}[${rateWindow}])`),
    q(`go_goroutines${SERVERS}`),
    q(`rate(go_gc_duration_seconds_count${SERVERS}[${rateWindow}]) * 60`),
    q(`sum by (job) (process_resident_memory_bytes${SERVERS})`),
  ]);
  const index = (list: PromSeries[]) => new Map(list.map((s) => [key(s), s.samples.map(([, v]) => v)]));
  const cpuBy = index(cpu);
  const goBy = index(goroutines);
  const gcBy = index(gc);
  const mean = (v?: number[]) => (v && v.length > 0 ? v.reduce((a, b) => a + b, 0) / v.length : null);
  const max = (v?: number[]) => (v && v.length > 0 ? Math.max(...v) : null);
  const processes = rss
    .map((s): ServerProcess => {
      const v = s.samples.map(([, x]) => x / MB);
      const k = key(s);
      const c = cpuBy.get(k);
      return {
        job: s.labels.job ?? "?",
        instance: s.labels.instance ?? "?",
        rssStartMB: v.length ? round(v[0] as number) : null,
        rssEndMB: v.length ? round(v.at(-1) as number) : null,
        rssMaxMB: v.length ? round(Math.max(...v)) : null,
        cpuMean: mean(c) === null ? null : round(mean(c) as number, 3),
        cpuMax: max(c) === null ? null : round(max(c) as number, 3),
        goroutinesMax: max(goBy.get(k)),
        gcPerMinute: mean(gcBy.get(k)) === null ? null : round(mean(gcBy.get(k)) as number),
      };
    })
    .sort((a, b) => a.job.localeCompare(b.job) || a.instance.localeCompare(b.instance));
  return {
    stepSec: step,
    processes,
    memory: memory.map((s) => ({
      job: s.labels.job ?? "?",
      points: s.samples.map(([t, v]) => [Math.round(t - fromSec), round(v / MB)] as [number, number]),
    })),
  };
}
