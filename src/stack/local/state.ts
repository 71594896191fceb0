import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { z } from "zod";
import { stackEndpointsSchema } from "../endpoints.js";
import { isAlive, type ProcessRecord } from "./processes.js";

const processRecordSchema = z.object({
  name: z.string(),
  pid: z.number().int(),
  startTime: z.string(),
  log: z.string(),
  spawn: z
    .object({
      command: z.string(),
      args: z.array(z.string()),
      cwd: z.string().optional(),
      env: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
});

/** What a run directory remembers between `up`, `status` and `down`; written after every process start. */
export const runStateSchema = z.object({
  phase: z.enum(["starting", "up"]),
  startedAt: z.string(),
  cutoverPid: z.number().int(),
  ports: z.record(z.string(), z.unknown()),
  endpoints: stackEndpointsSchema.optional(),
  processes: z.array(processRecordSchema),
});

export type RunState = z.infer<typeof runStateSchema>;

export function readState(file: string): RunState | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return runStateSchema.parse(JSON.parse(readFileSync(file, "utf8")));
  } catch {
    // A state file we cannot read is treated as stale: nothing in it can be trusted to stop.
    return undefined;
  }
}

export function writeState(file: string, state: RunState): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, file);
}

export type Liveness =
  | { kind: "none" }
  | { kind: "live"; state: RunState }
  | { kind: "stale"; state: RunState; alive: ProcessRecord[] };

/** live: every recorded process runs; stale: a crashed or half-stopped run whose survivors are ours to stop. */
export function liveness(state: RunState | undefined): Liveness {
  if (!state) return { kind: "none" };
  const alive = state.processes.filter(isAlive);
  if (state.phase === "up" && alive.length === state.processes.length && alive.length > 0)
    return { kind: "live", state };
  return { kind: "stale", state, alive };
}

/** Puts `next` where the record of the same name was: a process a fault restarted is still the stack's. */
export function replaceProcess(file: string, next: ProcessRecord): void {
  const state = readState(file);
  if (!state) return;
  state.processes = state.processes.map((p) => (p.name === next.name ? next : p));
  writeState(file, state);
}
