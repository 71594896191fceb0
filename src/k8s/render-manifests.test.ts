import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { parseAllDocuments } from "yaml";
import { runCutover } from "../../test/support/cli.js";
import { renderManifests } from "./render-manifests.js";
import { type RenderFlags, renderRequest } from "./render-request.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "cutover-k8s-render-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const config = path.join(tmp, "staging.yaml");
writeFileSync(config, "stack:\n  external:\n    label: staging\n    nginx: https://chat.staging.example\n");

/** The fields a test reads, without trusting the renderer's own types. */
interface JobShape {
  spec: {
    completionMode: string;
    completions: number;
    parallelism: number;
    backoffLimitPerIndex: number;
    template: {
      spec: {
        subdomain: string;
        affinity?: { podAntiAffinity: Record<string, unknown> };
        containers: {
          command: string[];
          args: string[];
          env: { name: string; value: string }[];
          envFrom?: unknown[];
          resources: unknown;
        }[];
        volumes: Record<string, unknown>[];
      };
    };
  };
}

async function render(flags: RenderFlags) {
  const input = await renderRequest("direct-chat", { config, ...flags });
  const { job, collect } = renderManifests(input);
  const byKind = (kind: string) => job.find((o) => o.kind === kind);
  return { input, job, collect, jobObject: byKind("Job") as unknown as JobShape, byKind };
}

describe("cutover k8s render: the Indexed Job", () => {
  test("4 shards: completions and parallelism 4, Indexed, one try per index", async () => {
    const { jobObject } = await render({ shards: "4" });
    expect(jobObject.spec).toMatchObject({
      completionMode: "Indexed",
      completions: 4,
      parallelism: 4,
      backoffLimitPerIndex: 0,
    });
  });

  test("every pod knows the shard count and shard 0's barrier by its stable DNS name", async () => {
    const { jobObject, byKind } = await render({ shards: "4" });
    const pod = jobObject.spec.template.spec;
    const env = Object.fromEntries(pod.containers[0]!.env.map((e) => [e.name, e.value]));
    expect(env.JOB_COMPLETIONS).toBe("4");
    expect(env.CUTOVER_BARRIER).toBe("http://cutover-direct-chat-0.cutover-direct-chat:7070");
    // Indexed Job pods are named <job>-<index> and the headless Service is their subdomain.
    expect(pod.subdomain).toBe("cutover-direct-chat");
    expect(byKind("Service")).toMatchObject({
      metadata: { name: "cutover-direct-chat" },
      spec: { clusterIP: "None", publishNotReadyAddresses: true, ports: [{ port: 7070 }] },
    });
  });

  test("the pod runs cutover load on the external stack with the scenario and config from the ConfigMap, flags passed through", async () => {
    const { jobObject, byKind } = await render({
      shards: "4",
      rate: "2000",
      duration: "5m",
      threshold: ["e2e.p99<200", "lost==0"],
    });
    const container = jobObject.spec.template.spec.containers[0]!;
    expect(container.command.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
    expect(container.command[2]).toContain('cutover load "$@" --out "$out"');
    expect(container.command[2]).toContain('out="/results/shard-$JOB_COMPLETION_INDEX"');
    expect(container.args).toEqual([
      "/etc/cutover/direct-chat.ts",
      "--stack",
      "external",
      "--config",
      "/etc/cutover/cutover.config.yaml",
      "--barrier",
      "http://cutover-direct-chat-0.cutover-direct-chat:7070",
      "--rate",
      "2000",
      "--duration",
      "5m",
      "--threshold",
      "e2e.p99<200",
      "--threshold",
      "lost==0",
    ]);
    const data = (byKind("ConfigMap") as unknown as { data: Record<string, string> }).data;
    expect(data["direct-chat.ts"]).toBe(readFileSync(path.resolve("scenarios/direct-chat.ts"), "utf8"));
    expect(data["cutover.config.yaml"]).toContain("kind: external");
    expect(data["cutover.config.yaml"]).toContain("nginx: https://chat.staging.example");
  });

  test("anti-affinity: required, preferred (the default), or none", async () => {
    const required = (await render({ shards: "4", antiAffinity: "required" })).jobObject.spec.template.spec;
    expect(required.affinity?.podAntiAffinity).toMatchObject({
      requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: "kubernetes.io/hostname" }],
    });
    const preferred = (await render({ shards: "4" })).jobObject.spec.template.spec;
    expect(preferred.affinity?.podAntiAffinity).toHaveProperty(
      "preferredDuringSchedulingIgnoredDuringExecution",
    );
    const none = (await render({ shards: "4", antiAffinity: "none" })).jobObject.spec.template.spec;
    expect(none.affinity).toBeUndefined();
  });

  test("resources: requests always, limits when asked", async () => {
    const { jobObject } = await render({ shards: "2", cpu: "2", memory: "4Gi", memoryLimit: "4Gi" });
    expect(jobObject.spec.template.spec.containers[0]!.resources).toEqual({
      requests: { cpu: "2", memory: "4Gi" },
      limits: { memory: "4Gi" },
    });
  });

  test("the Job ends by itself: barrier wait, warm-up, schedule and drain plus a margin, or --deadline", async () => {
    // direct-chat: 30 s schedule, 10 s drain; warm-up auto (up to 60 s); barrier 15 m; margin 10 m.
    expect((await render({ shards: "2" })).input.deadlineSeconds).toBe(30 + 10 + 60 + 900 + 600);
    expect((await render({ shards: "2", deadline: "2h" })).input.deadlineSeconds).toBe(7200);
    const spec = (await render({ shards: "2", deadline: "2h" })).jobObject.spec as unknown as Record<
      string,
      unknown
    >;
    expect(spec.activeDeadlineSeconds).toBe(7200);
  });

  test("volume results: a ReadWriteMany claim at /results, and a pod to copy them out", async () => {
    const { jobObject, byKind, collect } = await render({ shards: "2" });
    expect(byKind("PersistentVolumeClaim")).toMatchObject({ spec: { accessModes: ["ReadWriteMany"] } });
    expect(jobObject.spec.template.spec.volumes).toContainEqual({
      name: "results",
      persistentVolumeClaim: { claimName: "cutover-direct-chat-results" },
    });
    expect(collect?.map((o) => o.kind)).toEqual(["Pod"]);
  });

  test("S3 results: credentials from a Secret, an upload after the load, and the load's exit code kept", async () => {
    const { jobObject, byKind, collect } = await render({ shards: "2", results: "s3://perf/runs/one/" });
    const container = jobObject.spec.template.spec.containers[0]!;
    expect(container.envFrom).toEqual([{ secretRef: { name: "cutover-s3" } }]);
    expect(container.env).toContainEqual({ name: "CUTOVER_RESULTS_URL", value: "s3://perf/runs/one" });
    const script = container.command[2]!;
    expect(script).toContain('cutover k8s upload "$out" "$CUTOVER_RESULTS_URL/shard-$JOB_COMPLETION_INDEX"');
    expect(script.indexOf("code=$?")).toBeLessThan(script.indexOf("cutover k8s upload"));
    expect(script.trimEnd().endsWith('exit "$code"')).toBe(true);
    expect(byKind("PersistentVolumeClaim")).toBeUndefined();
    expect(collect).toBeUndefined();
  });
});

describe("cutover k8s render: the command", () => {
  test("writes the manifests as YAML and NEXT-STEPS.md with the commands from apply to report", {
    timeout: 60_000,
  }, () => {
    const out = path.join(tmp, "out");
    const run = runCutover(["k8s", "render", "direct-chat", "--shards", "4", "-c", config, "--out", out]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const docs = parseAllDocuments(readFileSync(path.join(out, "manifests.yaml"), "utf8"));
    expect(docs.map((d) => (d.toJS() as { kind: string }).kind)).toEqual([
      "ConfigMap",
      "Service",
      "PersistentVolumeClaim",
      "Job",
    ]);
    const next = readFileSync(path.join(out, "NEXT-STEPS.md"), "utf8");
    for (const line of [
      "kubectl apply -f manifests.yaml",
      "kubectl wait --for=condition=complete job/cutover-direct-chat",
      "kubectl cp cutover-direct-chat-collect:/results ./shards",
      "cutover merge ./shards --out ./merged",
      "cutover report ./merged/results.json",
    ])
      expect(next).toContain(line);
  });

  test.each([
    [["--shards", "0"], "--shards 0: expected a whole number from 1 to 1000"],
    [["--shards", "x"], "--shards x: expected a whole number from 1 to 1000"],
  ])("%j → one line, exit 2", { timeout: 60_000 }, (flags, message) => {
    const run = runCutover(["k8s", "render", "direct-chat", "-c", config, ...flags]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toContain(message);
  });

  test("an unknown scenario → one line, exit 2", { timeout: 60_000 }, () => {
    const run = runCutover(["k8s", "render", "no-such-scenario", "--shards", "2", "-c", config]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toContain('no scenario "no-such-scenario"');
  });

  test.each([
    [{ results: "ftp://x" }, "--results ftp://x: expected volume or s3://<bucket>/<prefix>"],
    [{ results: "s3://B/x" }, "s3://B/x: expected s3://<bucket>/<prefix>"],
    [{ cpu: "lots" }, "--cpu lots: expected a quantity"],
    [{ name: "Cutover_1" }, "--name Cutover_1: expected a DNS label"],
    [{ driver: "./my-driver.ts" }, "--driver ./my-driver.ts: a driver module does not travel into the pods"],
    [{ rate: "-5" }, "--rate -5: expected a number"],
  ])("%j is refused by name (a UsageError: exit 2)", async (flags, message) => {
    await expect(renderRequest("direct-chat", { config, shards: "2", ...flags })).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining(message),
    });
  });

  test("a config without an external stack is refused, naming stack.external.nginx", async () => {
    const empty = path.join(tmp, "empty.yaml");
    writeFileSync(empty, "{}\n");
    await expect(renderRequest("direct-chat", { config: empty, shards: "2" })).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining("stack.external.nginx"),
    });
  });
});
