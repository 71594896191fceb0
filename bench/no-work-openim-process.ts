import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/**
 * The no-work server in a child process (bench/no-work-openim-main.ts): a generator measured
 * against it with process.cpuUsage() then pays only its own CPU, and the server can be
 * SIGSTOPped (a known stall) without stopping the generator.
 */
export interface NoWorkProcess {
  wsURL: string;
  apiURL: string;
  port: number;
  pid: number;
  /** Stops the server for `forMs` (SIGSTOP, then SIGCONT): every socket to it stalls at once. */
  stall(forMs: number): Promise<void>;
  close(): Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));

export async function spawnNoWorkServer(maxMinutes = 60): Promise<NoWorkProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", path.join(here, "no-work-openim-main.ts"), "--max-minutes", String(maxMinutes)],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the no-work server did not start within 30 s")), 30_000);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once("line", (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the no-work server exited (code ${code}) before saying where it listens`));
    });
  });
  const info = JSON.parse(line) as { wsURL: string; apiURL: string; port: number };
  const pid = child.pid as number;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    ...info,
    pid,
    async stall(forMs) {
      process.kill(pid, "SIGSTOP");
      await new Promise((r) => setTimeout(r, forMs));
      process.kill(pid, "SIGCONT");
    },
    async close() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}
