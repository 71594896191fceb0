import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { sleep } from "../../util/time.js";

/** A process cutover started: its pid plus the kernel start time, so a reused pid is never mistaken for it. */
export interface ProcessRecord {
  name: string;
  pid: number;
  startTime: string;
  log: string;
  /** How it was started, so a fault can start it again exactly so (absent in older run dirs). */
  spawn?: { command: string; args: string[]; cwd?: string; env?: Record<string, string> };
}

/** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot; identifies a process beyond its pid. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses; fields after it are plain.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const state = rest[0];
    if (state === "Z" || state === "X") return undefined;
    return rest[19];
  } catch {
    return undefined;
  }
}

export function isAlive(record: Pick<ProcessRecord, "pid" | "startTime">): boolean {
  return processStartTime(record.pid) === record.startTime;
}

export interface SpawnSpec {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  log: string;
}

/**
 * Starts a long-lived service detached in its own process group, output appended to its
 * log file, so it outlives `cutover up` and `down` can stop it (and only it) by pid.
 */
export function startProcess(spec: SpawnSpec): ProcessRecord {
  const fd = openSync(spec.log, "a");
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ["ignore", fd, fd],
    });
    if (child.pid === undefined) throw new Error(`${spec.name}: could not start ${spec.command}`);
    child.unref();
    const startTime = processStartTime(child.pid) ?? "";
    // Only what the spec sets beyond the inherited environment is kept: the rest is the caller's
    // (and may hold its secrets), and a restart inherits it again.
    const env = spec.env
      ? Object.fromEntries(
          Object.entries(spec.env).filter(
            (e): e is [string, string] => e[1] !== undefined && process.env[e[0]] !== e[1],
          ),
        )
      : undefined;
    return {
      name: spec.name,
      pid: child.pid,
      startTime,
      log: spec.log,
      spawn: {
        command: spec.command,
        args: spec.args,
        ...(spec.cwd ? { cwd: spec.cwd } : {}),
        ...(env ? { env } : {}),
      },
    };
  } finally {
    closeSync(fd);
  }
}

/** SIGTERM to the process group, then SIGKILL after `graceMs`; resolves when it is gone. */
export async function stopProcess(record: ProcessRecord, graceMs = 8000): Promise<"stopped" | "gone"> {
  if (!isAlive(record)) return "gone";
  signalGroup(record.pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(record)) return "stopped";
    await sleep(50);
  }
  signalGroup(record.pid, "SIGKILL");
  for (let i = 0; i < 100 && isAlive(record); i++) await sleep(20);
  return "stopped";
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** The last lines of a log, for startup failures that must say why. */
export function tailLog(file: string, lines = 15): string {
  try {
    const text = readFileSync(file, "utf8").trimEnd().split("\n");
    return text.slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** SIGKILL to the process group, as a crash would end it; resolves when it is gone. */
export async function killProcess(record: ProcessRecord): Promise<void> {
  if (!isAlive(record)) return;
  signalGroup(record.pid, "SIGKILL");
  for (let i = 0; i < 250 && isAlive(record); i++) await sleep(20);
}

/** Starts a process again exactly as it was first started (same command, arguments, log). */
export function respawn(record: ProcessRecord): ProcessRecord {
  const spawnSpec = record.spawn;
  if (!spawnSpec)
    throw new Error(
      `${record.name} was started before cutover recorded how: restart the stack with \`cutover up\``,
    );
  return startProcess({
    name: record.name,
    command: spawnSpec.command,
    args: spawnSpec.args,
    ...(spawnSpec.cwd ? { cwd: spawnSpec.cwd } : {}),
    ...(spawnSpec.env ? { env: { ...process.env, ...spawnSpec.env } } : {}),
    log: record.log,
  });
}
