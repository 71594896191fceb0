import { readdirSync, readFileSync } from "node:fs";

/**
 * What a generator's processes cost, read from /proc: CPU (utime + stime of every process in
 * the tree under a pid, all threads included) and resident memory. The same reading for every
 * tool — cutover, the bare script, autocannon, Artillery, Tsung — so their rows compare.
 */

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK)
const PAGE_KB = 4;

function read(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined; // the process is gone
  }
}

/** The pid and every descendant of it that is still running. */
export function processTree(root: number): number[] {
  const out: number[] = [];
  const todo = [root];
  // Bounded: a process tree of a load generator is a handful of processes.
  while (todo.length > 0 && out.length < 256) {
    const pid = todo.pop() as number;
    if (read(`/proc/${pid}/stat`) === undefined) continue;
    out.push(pid);
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      const children = read(`/proc/${pid}/task/${tid}/children`) ?? "";
      for (const c of children.split(" ")) if (c.trim() !== "") todo.push(Number(c));
    }
  }
  return out;
}

/** CPU seconds (user + system) one process has used so far; 0 once it is gone. */
export function processCpuSeconds(pid: number): number {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return 0;
  // The command name (field 2) may hold spaces: count fields from after its closing paren.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / TICKS_PER_SECOND;
}

/** Resident memory of one process now, in bytes. */
export function processRssBytes(pid: number): number {
  const statm = read(`/proc/${pid}/statm`);
  if (!statm) return 0;
  return Number(statm.split(" ")[1]) * PAGE_KB * 1024;
}

export interface TreeReading {
  cpuSeconds: number;
  rssBytes: number;
  pids: number[];
}

export function readTree(root: number): TreeReading {
  const pids = processTree(root);
  let cpuSeconds = 0;
  let rssBytes = 0;
  for (const pid of pids) {
    cpuSeconds += processCpuSeconds(pid);
    rssBytes += processRssBytes(pid);
  }
  return { cpuSeconds, rssBytes, pids };
}

/**
 * Samples a process tree every `everyMs` until stopped: the peak RSS over the whole run, and
 * the CPU at marks the caller sets (the start and end of the measured window). A process that
 * left the tree keeps the CPU it was last seen with, so a short-lived child is not lost.
 */
export class TreeSampler {
  private readonly lastCpu = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  peakRssBytes = 0;

  constructor(
    private readonly root: number,
    everyMs = 200,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  /** CPU seconds of the tree so far (processes that exited included, as last seen). */
  sample(): number {
    const r = readTree(this.root);
    this.peakRssBytes = Math.max(this.peakRssBytes, r.rssBytes);
    for (const pid of r.pids)
      this.lastCpu.set(pid, Math.max(this.lastCpu.get(pid) ?? 0, processCpuSeconds(pid)));
    let total = 0;
    for (const v of this.lastCpu.values()) total += v;
    return total;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
