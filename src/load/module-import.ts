import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";

// From source (vitest, or a worker started with --import tsx) .ts files import as they are;
// the compiled CLI has no loader registered, so it goes through tsx's API.
const fromSource = import.meta.url.endsWith(".ts");

/** Imports a user's file — a scenario or a driver module, TypeScript or JavaScript. */
export async function importFile(file: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path.resolve(file)).href;
  if (!fromSource && /\.[cm]?ts$/.test(file)) {
    const { tsImport } = await import("tsx/esm/api");
    return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
  }
  return (await import(url)) as Record<string, unknown>;
}

/**
 * Starts the worker entry beside this file so it runs the code checked out: the compiled
 * file from dist/, else the source. Node 20 does not apply `--import tsx` given in a
 * worker's execArgv to the worker's own entry, so from source a two-line bootstrap
 * registers tsx's hooks in the new thread first, then imports the TypeScript entry.
 */
export function startWorkerThread(name: string): Worker {
  if (!fromSource) return new Worker(new URL("./worker-main.js", import.meta.url), { name });
  const pkg = createRequire(import.meta.url).resolve("tsx/package.json");
  const api = (kind: string) =>
    pathToFileURL(path.join(path.dirname(pkg), "dist", kind, "api", "index.mjs")).href;
  const entry = new URL("./worker-main.ts", import.meta.url).href;
  // Both hooks: a scenario outside any package (a ConfigMap's /etc/cutover) is CommonJS to Node.
  const code = `Promise.all([import(${JSON.stringify(api("esm"))}), import(${JSON.stringify(api("cjs"))})]).then(([esm, cjs]) => { esm.register(); cjs.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true, name });
}
