import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, inject, test } from "vitest";
import { parseAllDocuments } from "yaml";
import { freePort } from "../src/load/toxiproxy.js";
import { type LoadResults, parseLoadResults } from "../src/report/results-schema.js";
import { packageRoot } from "../src/util/package-root.js";
import { cliEnv, externalTarget, runCutover } from "./support/cli.js";

// No Kubernetes here: the Job `cutover k8s render` writes is run as its pods would run it — the
// container's command and arguments, the Job's environment plus the JOB_COMPLETION_INDEX
// Kubernetes adds — as three local processes against the shared stack. Only what a cluster
// provides is simulated: the volumes are local directories, pod 0's DNS name is 127.0.0.1, and
// `cutover` on PATH is this checkout.

const endpoints = inject("endpoints");
const runDir = inject("runDir");
const SHARDS = 3;
const RATE = 60;
const DURATION_S = 6;

interface Container {
  command: string[];
  args: string[];
  env: Array<{ name: string; value: string }>;
  volumeMounts: Array<{ name: string; mountPath: string }>;
}

function renderedJob(dir: string): { container: Container; configMap: Record<string, string> } {
  const docs = parseAllDocuments(readFileSync(path.join(dir, "manifests.yaml"), "utf8")).map(
    (d) => d.toJS() as { kind: string; data?: Record<string, string>; spec?: unknown },
  );
  const job = docs.find((d) => d.kind === "Job") as unknown as {
    spec: { completions: number; template: { spec: { containers: Container[] } } };
  };
  const configMap = docs.find((d) => d.kind === "ConfigMap")?.data ?? {};
  expect(job.spec.completions).toBe(SHARDS);
  return { container: job.spec.template.spec.containers[0] as Container, configMap };
}

/** One pod, as a process: its command with the mounts mapped to local directories. */
function runPod(
  c: Container,
  index: number,
  o: { mounts: Record<string, string>; bin: string; work: string; rawDir: string },
): Promise<{ code: number; output: string }> {
  const local = (text: string) =>
    Object.entries(o.mounts)
      .reduce((t, [mount, dir]) => t.split(mount).join(dir), text)
      // Pod 0's name in the cluster's DNS (<job>-0.<service>) is this machine's loopback here.
      .replace(/http:\/\/[a-z0-9-]+-0\.[a-z0-9-]+(\.[a-z0-9.-]+)?:/, "http://127.0.0.1:");
  const env: NodeJS.ProcessEnv = { ...cliEnv(), PATH: `${o.bin}:${process.env.PATH}` };
  for (const e of c.env) env[e.name] = local(e.value);
  env.JOB_COMPLETION_INDEX = String(index);
  env.CUTOVER_RUN_DIR = path.join(o.work, `run-${index}`);
  const [cmd = "", ...cmdArgs] = c.command.map(local);
  // The one addition to the pod's command: every raw sample, to check the merged percentiles against.
  const args = [...cmdArgs, ...c.args.map(local), "--raw-samples", o.rawDir];
  return new Promise((resolve) => {
    // The image's working directory is its cutover install; here, this checkout.
    const child = spawn(cmd, args, { env, cwd: packageRoot() });
    let output = "";
    child.stdout.on("data", (d) => {
      output += d;
    });
    child.stderr.on("data", (d) => {
      output += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 240_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output });
    });
  });
}

function rawSamples(dir: string, metric: string): number[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${metric}-`))
    .flatMap((f) => readFileSync(path.join(dir, f), "utf8").split("\n").filter(Boolean).map(Number));
}

/** The p-th percentile of raw samples as HdrHistogram defines it: the value at or below which p% lie. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

test("the rendered Indexed Job, run as 3 local pods behind the barrier, merges exactly", async () => {
  const work = mkdtempSync(path.join(os.tmpdir(), "cutover-shards-"));
  const config = path.join(work, "external.json");
  writeFileSync(
    config,
    JSON.stringify({ stack: { kind: "external", external: externalTarget(endpoints, runDir) } }),
  );
  const port = await freePort();
  const manifests = path.join(work, "manifests");
  const rendered = runCutover([
    "k8s",
    "render",
    "direct-chat",
    "--shards",
    String(SHARDS),
    "--config",
    config,
    "--out",
    manifests,
    "--barrier-port",
    String(port),
    // Tokens from the admin API: the gateway's DH logins would only lengthen the setup here.
    "--driver",
    "openim-direct",
    "--rate",
    String(RATE),
    "--users",
    "24",
    "--duration",
    `${DURATION_S}s`,
    "--drain",
    "5s",
    "--workers",
    "1",
    "--warmup",
    "0",
  ]);
  expect(rendered.code, rendered.stderr).toBe(0);
  const { container, configMap } = renderedJob(manifests);

  // The volumes: the ConfigMap's files, and the results volume every pod writes its shard to.
  const mounts: Record<string, string> = {};
  for (const m of container.volumeMounts) {
    mounts[m.mountPath] = path.join(work, `volume-${m.name}`);
    mkdirSync(mounts[m.mountPath] as string, { recursive: true });
  }
  const input = container.volumeMounts.find((m) => m.name === "input");
  for (const [name, text] of Object.entries(configMap))
    writeFileSync(path.join(mounts[input?.mountPath ?? ""] ?? work, name), text);
  const bin = path.join(work, "bin");
  mkdirSync(bin);
  writeFileSync(
    path.join(bin, "cutover"),
    `#!/bin/sh\nexec "${process.execPath}" --import tsx "${path.join(packageRoot(), "src/cli/main.ts")}" "$@"\n`,
  );
  chmodSync(path.join(bin, "cutover"), 0o755);
  const rawDir = path.join(work, "raw");
  mkdirSync(rawDir);

  const pods = await Promise.all(
    Array.from({ length: SHARDS }, (_, i) => runPod(container, i, { mounts, bin, work, rawDir })),
  );
  // 99: a shard's own thresholds (the scenario's e2e.p99 < 200ms) crossed on this shared machine; merge judges them again.
  for (const pod of pods) expect([0, 99], pod.output.slice(-2000)).toContain(pod.code);

  const resultsDir = mounts[container.volumeMounts.find((m) => m.name === "results")?.mountPath ?? ""] ?? "";
  const shards: LoadResults[] = [...Array(SHARDS).keys()].map((i) =>
    parseLoadResults(JSON.parse(readFileSync(path.join(resultsDir, `shard-${i}`, "results.json"), "utf8"))),
  );
  const merged = runCutover(["merge", resultsDir, "--out", path.join(work, "merged")]);
  const m = parseLoadResults(JSON.parse(readFileSync(path.join(work, "merged", "results.json"), "utf8")));
  expect(merged.code, merged.stderr).toBe(m.thresholds?.every((t) => t.ok) ? 0 : 99);
  expect(merged.stdout).toMatch(/merged 3 shards/);

  // Every shard its own users, started at one agreed instant.
  expect(shards.map((s) => s.setup?.users)).toEqual([8, 8, 8]);
  expect(new Set(shards.map((s) => s.shard?.startAt)).size).toBe(1);
  // The merged books are the shards' books added up.
  const sum = (f: (r: LoadResults) => number | undefined) => shards.reduce((a, s) => a + (f(s) ?? 0), 0);
  for (const key of [
    "scheduled",
    "sent",
    "acked",
    "expectedDeliveries",
    "delivered",
    "lost",
    "duplicated",
  ] as const)
    expect(m.counters?.[key], key).toBe(sum((s) => s.counters?.[key]));
  expect(m.accounting?.balanced).toBe(true);
  expect(m.shards?.map((s) => s.index)).toEqual([0, 1, 2]);
  // The shards' schedules interleave into the one intended schedule: 60/s for 6 s.
  expect(m.counters?.scheduled).toBe(RATE * DURATION_S);
  expect(m.run?.expectedOperations).toBe(RATE * DURATION_S);
  expect(Math.abs((m.counters?.sent ?? 0) / (RATE * DURATION_S) - 1)).toBeLessThanOrEqual(0.01);
  // Merged percentiles are those of every raw sample of every shard, within HDR's 3 digits.
  for (const metric of ["ack", "e2e"] as const) {
    const raw = rawSamples(rawDir, metric);
    expect(m.metrics?.[metric]?.count, metric).toBe(raw.length);
    for (const p of [50, 99] as const) {
      const exact = percentile(raw, p) / 1000;
      const got = m.metrics?.[metric]?.[`p${p}`] ?? 0;
      expect(Math.abs(got - exact) / exact, `${metric} p${p}: ${got} vs ${exact}`).toBeLessThanOrEqual(0.001);
    }
  }
}, 300_000);
