import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";

/** A results folder per run, named by start time so runs never overwrite each other. */
export function newResultsDir(outDir: string, startedAt: Date, label: string): string {
  const stamp = startedAt.toISOString().replace(/[:.]/g, "-");
  const dir = path.resolve(outDir, `${stamp}-${label}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Writes atomically (temp file + rename): a run killed mid-write leaves the previous complete version. */
export function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, file);
}
