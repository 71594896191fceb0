import { spawn } from "node:child_process";
import { TreeSampler } from "./proc-tree.js";

/**
 * Runs one generator as a child process and reads what it costs from /proc: its tree's CPU
 * between two wall-clock instants (the schedule's start, and its end plus the drain), so
 * start-up and logins are left out, and the tree's peak RSS over the whole run.
 */
export interface Measured {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** CPU seconds of the tool's process tree inside the measured window. */
  windowCpuSeconds: number;
  /** CPU seconds of the whole run, start-up and setup included. */
  totalCpuSeconds: number;
  peakRssBytes: number;
  /** Killed after timeoutMs. */
  timedOut: boolean;
}

export interface MeasureOptions {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  startAtMs: number;
  windowEndAtMs: number;
  /** The child is killed (its pid, then its group) past this. */
  timeoutMs: number;
  onLine?: (line: string) => void;
}

const MAX_OUTPUT = 4 * 1024 * 1024;

export function measureChild(o: MeasureOptions): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const child = spawn(o.command, o.args, {
      cwd: o.cwd,
      env: o.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // its own process group, so a timeout can end the whole tree
    });
    if (child.pid === undefined) {
      reject(new Error(`could not start ${o.command}`));
      return;
    }
    const pid = child.pid;
    const sampler = new TreeSampler(pid);
    let stdout = "";
    let stderr = "";
    let cpuAtStart: number | undefined;
    let cpuAtEnd: number | undefined;
    let timedOut = false;
    child.stdout.on("data", (d: Buffer) => {
      if (stdout.length < MAX_OUTPUT) stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      const text = d.toString();
      if (stderr.length < MAX_OUTPUT) stderr += text;
      for (const line of text.split("\n")) if (line.trim() !== "") o.onLine?.(line);
    });
    const atStart = setTimeout(() => {
      cpuAtStart = sampler.sample();
    }, o.startAtMs - Date.now());
    const atEnd = setTimeout(() => {
      cpuAtEnd = sampler.sample();
    }, o.windowEndAtMs - Date.now());
    const killer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-pid, "SIGTERM");
      } catch {
        // already gone
      }
    }, o.timeoutMs);
    child.on("error", (err) => {
      clearTimeout(atStart);
      clearTimeout(atEnd);
      clearTimeout(killer);
      sampler.stop();
      reject(err);
    });
    child.on("close", (code) => {
      clearTimeout(atStart);
      clearTimeout(atEnd);
      clearTimeout(killer);
      // Exited before the window closed: what it used until then (as last sampled) is its window's.
      const last = sampler.sample();
      sampler.stop();
      const start = cpuAtStart ?? last;
      const end = cpuAtEnd ?? last;
      resolve({
        exitCode: code,
        stdout,
        stderr,
        windowCpuSeconds: Math.max(0, end - start),
        totalCpuSeconds: last,
        peakRssBytes: sampler.peakRssBytes,
        timedOut,
      });
    });
  });
}
