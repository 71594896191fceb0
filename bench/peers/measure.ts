import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { TreeSampler } from "./proc-tree.js";

/**
 * Runs one generator as a child process and reads what it costs from /proc: its tree's CPU
 * over the measured window, and the tree's peak RSS over the whole run.
 *
 * The window starts when the tool is ready, whatever its start-up costs: the tool appends a
 * line to `readyFile` for each user it has connected (or one line when it is all set up); once
 * `readyCount` lines are there, the parent writes the start instant (ms since the epoch, one
 * second ahead) to `goFile`, which the tool waits for. The window ends at that instant plus
 * the schedule and its drain. Start-up, logins and connects are left out of the CPU.
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
  startAtMs: number;
  windowEndAtMs: number;
  /** Users ready when the start was given (less than readyCount when readiness timed out). */
  readyAtStart: number;
  /** Killed after its time was up. */
  timedOut: boolean;
}

export interface MeasureOptions {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  readyFile: string;
  readyCount: number;
  goFile: string;
  /** Schedule plus drain: the window's length. */
  windowMs: number;
  /** A further condition for ready, checked with the count (Tsung: its first stats dump is written). */
  readyAlso?: () => boolean;
  /** How long start-up and setup may take before the start is given anyway. */
  readyTimeoutMs: number;
  /** After the window, how long the tool may take to finish and exit before it is killed. */
  exitGraceMs: number;
  onLine?: (line: string) => void;
}

const MAX_OUTPUT = 4 * 1024 * 1024;
const START_AHEAD_MS = 1000;

const countLines = (file: string) =>
  existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "").length
    : 0;

export function measureChild(o: MeasureOptions): Promise<Measured> {
  writeFileSync(o.readyFile, "");
  writeFileSync(o.goFile, "");
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
    const spawnedAt = Date.now();
    const sampler = new TreeSampler(pid);
    let stdout = "";
    let stderr = "";
    let cpuAtStart: number | undefined;
    let cpuAtEnd: number | undefined;
    let startAtMs = 0;
    let windowEndAtMs = 0;
    let readyAtStart = 0;
    let timedOut = false;
    const timers: NodeJS.Timeout[] = [];
    child.stdout.on("data", (d: Buffer) => {
      if (stdout.length < MAX_OUTPUT) stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      const text = d.toString();
      if (stderr.length < MAX_OUTPUT) stderr += text;
      for (const line of text.split("\n")) if (line.trim() !== "") o.onLine?.(line);
    });
    const kill = () => {
      timedOut = true;
      try {
        process.kill(-pid, "SIGTERM");
      } catch {
        // already gone
      }
    };
    const go = () => {
      readyAtStart = countLines(o.readyFile);
      startAtMs = Date.now() + START_AHEAD_MS;
      windowEndAtMs = startAtMs + o.windowMs;
      writeFileSync(o.goFile, `${startAtMs}\n`);
      timers.push(
        setTimeout(() => {
          cpuAtStart = sampler.sample();
        }, startAtMs - Date.now()),
        setTimeout(() => {
          cpuAtEnd = sampler.sample();
        }, windowEndAtMs - Date.now()),
        setTimeout(kill, windowEndAtMs - Date.now() + o.exitGraceMs),
      );
    };
    const poll = setInterval(() => {
      const ready = countLines(o.readyFile) >= o.readyCount && (o.readyAlso?.() ?? true);
      if (ready || Date.now() - spawnedAt > o.readyTimeoutMs) {
        clearInterval(poll);
        go();
      }
    }, 100);
    const finish = () => {
      clearInterval(poll);
      for (const t of timers) clearTimeout(t);
      sampler.stop();
    };
    child.on("error", (err) => {
      finish();
      reject(err);
    });
    child.on("close", (code) => {
      // Exited before the window closed: what it used until then (as last sampled) is its window's.
      const last = sampler.sample();
      finish();
      const start = cpuAtStart ?? last;
      const end = cpuAtEnd ?? last;
      resolve({
        exitCode: code,
        stdout,
        stderr,
        windowCpuSeconds: Math.max(0, end - start),
        totalCpuSeconds: last,
        peakRssBytes: sampler.peakRssBytes,
        startAtMs,
        windowEndAtMs,
        readyAtStart,
        timedOut,
      });
    });
  });
}

/** The tool's side, for Node tools: say it is ready, then wait for the start instant (bounded). */
export async function readyThenWaitForGo(
  readyFile: string,
  goFile: string,
  timeoutMs: number,
): Promise<number> {
  writeFileSync(readyFile, "ready\n", { flag: "a" });
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const text = existsSync(goFile) ? readFileSync(goFile, "utf8").trim() : "";
    if (text !== "") return Number(text);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no start instant in ${goFile} within ${timeoutMs} ms`);
}
