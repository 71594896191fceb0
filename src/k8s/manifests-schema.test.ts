import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  ensureKubeconform,
  ensureKubernetesSchemas,
  KUBERNETES_VERSION,
  validateManifests,
} from "./kubeconform.js";
import { type KubeObject, type RenderInput, renderManifests } from "./render-manifests.js";
import { toYamlStream } from "./write-manifests.js";

// The rendered manifests against the Kubernetes API schema of a release, by kubeconform: the
// tools are built into the cache on first use (about a minute here), then each check takes a second.

const tmp = mkdtempSync(path.join(os.tmpdir(), "cutover-k8s-schema-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let tools: { kubeconform: string; schemas: string };

beforeAll(async () => {
  const [kubeconform, schemas] = await Promise.all([ensureKubeconform(), ensureKubernetesSchemas()]);
  tools = { kubeconform, schemas };
}, 600_000);

const base: RenderInput = {
  name: "cutover-direct-chat",
  namespace: "perf",
  image: "registry.example/cutover-generator:0.1.0",
  shards: 4,
  scenario: { name: "direct-chat", source: "export const options = {};\n" },
  configYaml: "stack:\n  kind: external\n  external:\n    nginx: https://chat.example\n",
  loadArgs: ["--rate", "2000", "--threshold", "e2e.p99<200"],
  antiAffinity: "required",
  resources: { requests: { cpu: "2", memory: "2Gi" }, limits: { cpu: "2500m", memory: "3Gi" } },
  results: { kind: "volume", claimSize: "2Gi", storageClass: "nfs" },
  barrierPort: 7070,
  deadlineSeconds: 3600,
};

let count = 0;
async function validate(objects: KubeObject[]) {
  const file = path.join(tmp, `manifests-${++count}.yaml`);
  writeFileSync(file, toYamlStream(objects));
  return validateManifests([file], tools);
}

function jobOf(objects: KubeObject[]): KubeObject & { spec: Record<string, unknown> } {
  const job = objects.find((o) => o.kind === "Job");
  if (!job) throw new Error("no Job rendered");
  return job as KubeObject & { spec: Record<string, unknown> };
}

describe(`rendered manifests against the Kubernetes v${KUBERNETES_VERSION} API schema (kubeconform -strict)`, () => {
  test("volume results: ConfigMap, Service, PersistentVolumeClaim, Job and the collect Pod are valid", {
    timeout: 60_000,
  }, async () => {
    const { job, collect } = renderManifests(base);
    const result = await validate([...job, ...(collect ?? [])]);
    expect(result.output).toContain("Valid: 5, Invalid: 0, Errors: 0, Skipped: 0");
    expect(result.ok).toBe(true);
  });

  test("S3 results, preferred anti-affinity, no limits, no namespace: valid", {
    timeout: 60_000,
  }, async () => {
    const { namespace: _, ...noNamespace } = base;
    const { job } = renderManifests({
      ...noNamespace,
      antiAffinity: "preferred",
      resources: { requests: { cpu: "1", memory: "1Gi" }, limits: {} },
      results: { kind: "s3", url: "s3://perf/runs/one", secret: "cutover-s3" },
    });
    const result = await validate(job);
    expect(result.output).toContain("Valid: 3, Invalid: 0, Errors: 0, Skipped: 0");
    expect(result.ok).toBe(true);
  });

  test("the check can fail: a string where the schema has an integer is rejected", {
    timeout: 60_000,
  }, async () => {
    const { job } = renderManifests(base);
    jobOf(job).spec.completions = "four";
    const result = await validate(job);
    expect(result.ok).toBe(false);
    expect(result.output).toContain("/spec/completions");
    expect(result.output).toContain("Invalid: 1");
  });

  test("the check can fail: a misspelt field is rejected (strict)", { timeout: 60_000 }, async () => {
    const { job } = renderManifests(base);
    const spec = jobOf(job).spec;
    spec.completionMod = spec.completionMode;
    delete spec.completionMode;
    const result = await validate(job);
    expect(result.ok).toBe(false);
    expect(result.output).toContain("'completionMod' not allowed");
  });

  test("the check can fail: a kind the release does not have is an error, not a skip", {
    timeout: 60_000,
  }, async () => {
    const result = await validate([{ apiVersion: "batch/v1", kind: "IndexedJob", metadata: { name: "x" } }]);
    expect(result.ok).toBe(false);
    expect(result.output).toContain("Skipped: 0");
  });
});
