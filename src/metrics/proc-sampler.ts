import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU and RSS of the system under test, read from /proc (Linux; a local stack only).
 * Each recorded process is sampled together with its descendants — nginx's workers,
 * Java's and Redis's children — because that is what the process costs the machine.
 */

export interface SampledProcess {
  name: string;
  pid: number;
  /** Kernel start time, so a reused pid is never mistaken for the one recorded. */
  startTime: string;
}

export interface ProcessSample {
  name: string;
  /** CPU used since the previous sample, as a share of one core (100 = one core busy). */
  cpuPercent: number;
  rssBytes: number;
  alive: boolean;
}

export interface ResourceSample {
  /** Seconds since the run's start. */
  t: number;
  processes: ProcessSample[];
  totalCpuPercent: number;
  totalRssBytes: number;
  /**
   * The generator itself (this process, worker threads included, not its children: a stack this
   * run started is a child and is sampled above), kept apart from the SUT's totals.
   */
  generator?: { cpuPercent: number; rssBytes: number };
}

// USER_HZ is 100 on every Linux ABI Node runs on (the kernel exports ticks in that unit to /proc).
const TICKS_PER_SECOND = 100;
const PAGE_SIZE = 4096;

interface Stat {
  ppid: number;
  ticks: number;
  rssBytes: number;
  startTime: string;
}

function readStat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 2 (comm) may contain spaces and parentheses; everything after the last ')' is plain.
    const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
    // f[0] is field 3 (state): field n is f[n - 3].
    if (f[0] === "Z" || f[0] === "X") return undefined;
    return {
      ppid: Number(f[1]),
      ticks: Number(f[11]) + Number(f[12]),
      startTime: f[19] ?? "",
      rssBytes: Number(f[21]) * PAGE_SIZE,
    };
  } catch {
    return undefined;
  }
}

function allStats(): Map<number, Stat> {
  const stats = new Map<number, Stat>();
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc");
  } catch {
    return stats;
  }
  for (const name of entries) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (stat) stats.set(pid, stat);
  }
  return stats;
}

/** Holds the previous sample's CPU ticks per process, so each sample reports the CPU used since. */
export class ProcSampler {
  private lastTicks = new Map<string, number>();
  private lastAt = 0;
  private lastSelfTicks: number | undefined;

  constructor(
    private readonly processes: SampledProcess[],
    private readonly startedAtMs: number,
    /** Also sample this process on its own, as the generator. */
    private readonly withGenerator = false,
  ) {}

  sample(nowMs = Date.now()): ResourceSample {
    const stats = allStats();
    const children = new Map<number, number[]>();
    for (const [pid, s] of stats) {
      const list = children.get(s.ppid);
      if (list) list.push(pid);
      else children.set(s.ppid, [pid]);
    }
    const elapsedSec = this.lastAt === 0 ? 0 : (nowMs - this.lastAt) / 1000;
    const out: ProcessSample[] = [];
    for (const p of this.processes) {
      const root = stats.get(p.pid);
      if (!root || root.startTime !== p.startTime) {
        out.push({ name: p.name, cpuPercent: 0, rssBytes: 0, alive: false });
        continue;
      }
      let ticks = 0;
      let rss = 0;
      // Bounded walk: a process tree cannot have more nodes than /proc has entries.
      const stack = [p.pid];
      for (let i = 0; stack.length > 0 && i < stats.size; i++) {
        const pid = stack.pop() as number;
        const s = stats.get(pid);
        if (!s) continue;
        ticks += s.ticks;
        rss += s.rssBytes;
        for (const c of children.get(pid) ?? []) stack.push(c);
      }
      const key = `${p.pid}:${p.startTime}`;
      const prev = this.lastTicks.get(key);
      this.lastTicks.set(key, ticks);
      const cpuPercent =
        prev === undefined || elapsedSec <= 0 ? 0 : ((ticks - prev) / TICKS_PER_SECOND / elapsedSec) * 100;
      out.push({ name: p.name, cpuPercent: Math.round(cpuPercent * 10) / 10, rssBytes: rss, alive: true });
    }
    const generator = this.withGenerator ? this.sampleSelf(stats, elapsedSec) : undefined;
    this.lastAt = nowMs;
    return {
      t: Math.round((nowMs - this.startedAtMs) / 100) / 10,
      processes: out,
      totalCpuPercent: Math.round(out.reduce((a, p) => a + p.cpuPercent, 0) * 10) / 10,
      totalRssBytes: out.reduce((a, p) => a + p.rssBytes, 0),
      ...(generator ? { generator } : {}),
    };
  }

  private sampleSelf(stats: Map<number, Stat>, elapsedSec: number): ResourceSample["generator"] {
    const self = stats.get(process.pid);
    if (!self) return undefined;
    const prev = this.lastSelfTicks;
    this.lastSelfTicks = self.ticks;
    const cpu =
      prev === undefined || elapsedSec <= 0 ? 0 : ((self.ticks - prev) / TICKS_PER_SECOND / elapsedSec) * 100;
    return { cpuPercent: Math.round(cpu * 10) / 10, rssBytes: self.rssBytes };
  }
}

export interface ResourceSummary {
  name: string;
  cpuPercentMean: number;
  cpuPercentMax: number;
  rssStartBytes: number;
  rssEndBytes: number;
  rssMaxBytes: number;
}

export function summarizeResources(samples: ResourceSample[]): ResourceSummary[] {
  const names = [...new Set(samples.flatMap((s) => s.processes.map((p) => p.name)))];
  return names.map((name) => {
    const series = samples.flatMap((s) => s.processes.filter((p) => p.name === name && p.alive));
    // The first sample has no previous one to measure CPU against.
    const cpu = series.slice(1).map((p) => p.cpuPercent);
    const rss = series.map((p) => p.rssBytes);
    return {
      name,
      cpuPercentMean: cpu.length ? Math.round((cpu.reduce((a, b) => a + b, 0) / cpu.length) * 10) / 10 : 0,
      cpuPercentMax: cpu.length ? Math.max(...cpu) : 0,
      rssStartBytes: rss[0] ?? 0,
      rssEndBytes: rss[rss.length - 1] ?? 0,
      rssMaxBytes: rss.length ? Math.max(...rss) : 0,
    };
  });
}
