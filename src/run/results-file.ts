import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CutoverError, EXIT, errorMessage } from "../util/errors.js";

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
  try {
    writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
    renameSync(tmp, file);
  } catch (err) {
    // A half-written temp file is nobody's results: leave only the last complete copy.
    rmSync(tmp, { force: true });
    const full = (err as NodeJS.ErrnoException).code === "ENOSPC";
    throw new CutoverError(
      `cannot write ${file}: ${full ? "the disk is full" : errorMessage(err)} — the last complete copy there is kept${full ? `, and the interval log beside it rebuilds a report (cutover report --from-log ${path.join(path.dirname(file), "intervals.hlog")})` : ""}`,
      EXIT.failures,
    );
  }
}
