import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { stringify } from "yaml";
import { COLLECT_FILE, MANIFESTS_FILE, NEXT_STEPS_FILE, nextSteps } from "./next-steps.js";
import { type KubeObject, type RenderInput, renderManifests } from "./render-manifests.js";

/** Several objects as one YAML stream, as `kubectl apply -f` reads it. */
export function toYamlStream(objects: KubeObject[]): string {
  // lineWidth 0: no folding, so the pod's shell script stays a literal block a reader can copy.
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join("---\n");
}

/** Writes the manifests and NEXT-STEPS.md into `outDir`; returns the files written. */
export function writeManifests(input: RenderInput, outDir: string, renderCommand: string): string[] {
  const rendered = renderManifests(input);
  mkdirSync(outDir, { recursive: true });
  const files: [string, string][] = [[MANIFESTS_FILE, toYamlStream(rendered.job)]];
  if (rendered.collect) files.push([COLLECT_FILE, toYamlStream(rendered.collect)]);
  files.push([NEXT_STEPS_FILE, nextSteps(input, renderCommand)]);
  for (const [name, text] of files) writeFileSync(path.join(outDir, name), text);
  return files.map(([name]) => path.join(outDir, name));
}
