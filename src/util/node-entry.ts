import path from "node:path";
import { fileURLToPath } from "node:url";
import { packageRoot } from "./package-root.js";

/**
 * How to start one of cutover's own TypeScript programs (the reference gateway) as a
 * process: the compiled file when cutover runs from dist/, else the source through tsx
 * (tests and development), so both always run the code that is actually checked out.
 */
export function nodeEntry(sourceFile: string): { command: string; args: string[] } {
  const root = packageRoot();
  const fromDist = fileURLToPath(import.meta.url).includes(`${path.sep}dist${path.sep}`);
  if (fromDist) {
    return { command: process.execPath, args: [path.join(root, "dist", sourceFile.replace(/\.ts$/, ".js"))] };
  }
  return { command: process.execPath, args: ["--import", "tsx", path.join(root, sourceFile)] };
}
