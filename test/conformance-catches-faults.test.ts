import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import type { ConformanceResults } from "../src/conformance-runner/results.js";
import { startTamperProxy, type TamperProxy } from "../src/faults/ws-tamper-proxy.js";
import { httpGetOk } from "../src/stack/local/net-probes.js";
import { pickFreePorts } from "../src/stack/local/ports.js";
import { type ProcessRecord, startProcess, stopProcess } from "../src/stack/local/processes.js";
import { nodeEntry } from "../src/util/node-entry.js";
import { waitFor } from "../src/util/time.js";
import "../conformance/support/context.js";
import { cliEnv, externalTarget } from "./support/cli.js";

// The suites must fail loudly when the stack is wrong. Here they run, through the CLI, against
// deliberately broken targets: a gateway with fault flags, and a proxy that tampers with frames.

const endpoints = inject("endpoints");
const runDir = inject("runDir");
const work = mkdtempSync(path.join(os.tmpdir(), "cutover-faults-"));
const env = cliEnv();

/**
 * `cutover conformance --stack external` as a child process. Asynchronous on purpose: the
 * tampering proxy lives in this process and must keep serving while the suites run.
 */
async function conformance(
  name: string,
  external: Record<string, unknown>,
  suite: string,
  grep?: string,
): Promise<{ code: number; output: string; results: ConformanceResults }> {
  const config = path.join(work, `${name}.json`);
  const out = path.join(work, `${name}-results.json`);
  writeFileSync(
    config,
    JSON.stringify({ stack: { kind: "external", external: { ...baseTarget(), ...external } } }),
  );
  const args = [
    "--import",
    "tsx",
    "src/cli/main.ts",
    "conformance",
    "--config",
    config,
    "--suite",
    suite,
    "--json",
    out,
  ];
  if (grep) args.push("--grep", grep);
  const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const timer = setTimeout(() => child.kill("SIGTERM"), 280_000);
  const code = await new Promise<number>((resolve) => child.once("close", (c) => resolve(c ?? -1)));
  clearTimeout(timer);
  return { code, output, results: JSON.parse(readFileSync(out, "utf8")) as ConformanceResults };
}

const baseTarget = () => ({ label: "a deliberately broken target", ...externalTarget(endpoints, runDir) });

const failedNames = (r: ConformanceResults) => r.cases.filter((c) => c.state === "failed").map((c) => c.name);

let faulty: ProcessRecord | undefined;
let faultyBase = "";
let proxy: TamperProxy | undefined;

beforeAll(async () => {
  // A second gateway on the same Redis and OpenIM, with both fault flags on.
  const [port] = await pickFreePorts(1);
  const config = JSON.parse(readFileSync(path.join(runDir, "config", "gateway.json"), "utf8")) as Record<
    string,
    unknown
  >;
  const file = path.join(work, "faulty-gateway.json");
  writeFileSync(
    file,
    JSON.stringify({
      ...config,
      listen: { host: "127.0.0.1", port },
      faults: { keepImTokenAfterLogout: true, acceptAlgNone: true },
    }),
  );
  const entry = nodeEntry("reference/gateway/src/main.ts");
  faulty = startProcess({
    name: "faulty-gateway",
    command: entry.command,
    args: [...entry.args, "--config", file],
    log: path.join(work, "faulty-gateway.log"),
  });
  faultyBase = `http://127.0.0.1:${port}`;
  await waitFor(
    "faulty gateway",
    async () => ((await httpGetOk(`${faultyBase}/healthz`)) ? true : undefined),
    { timeoutMs: 30_000 },
  );
});

afterAll(async () => {
  if (faulty) await stopProcess(faulty);
  await proxy?.close();
});

describe("the suites catch a broken stack", { timeout: 300_000 }, () => {
  test("a gateway that keeps the imToken after logout and lets alg:none through fails exactly those auth cases", async () => {
    const run = await conformance("faulty-gateway", { nginx: faultyBase, gateway: faultyBase }, "auth");
    expect(run.code, run.output).toBe(1);
    const failed = failedNames(run.results);
    expect(failed).toContain("logout removes the cached imToken and OpenIM refuses it afterwards (1506)");
    expect(failed).toContain("a gateway JWT with alg:none gets 401");
    expect(run.output).toMatch(/✗ .*logout removes the cached imToken/);
    // Everything the faults do not touch still passes: the failures point at the defect.
    expect(failed.length).toBeLessThanOrEqual(4);
    expect(run.results.totals.passed).toBeGreaterThan(15);
  });

  test("a proxy that shifts pushed seqs fails the seq cases of the messaging suite", async () => {
    proxy = await startTamperProxy(endpoints.openimWs, { seqShift: 3 });
    const run = await conformance(
      "seq-shift",
      { wsURL: `${proxy.url}/msg_gateway`, openimWs: proxy.url },
      "messaging",
      "twenty messages|reaches the receiver with seq|ack \\(1003\\) carries",
    );
    await proxy.close();
    proxy = undefined;
    expect(run.code, run.output).toBe(1);
    const failed = failedNames(run.results);
    expect(failed).toContain(
      "twenty messages get seqs 1..20 with no gap, pushed in order, and 1002 returns the same twenty",
    );
    expect(failed).toContain(
      "a text sent over the WebSocket through nginx reaches the receiver with seq, sender and content",
    );
    // A case the tampering does not touch still passes.
    expect(run.results.cases.find((c) => c.name.startsWith("the ack (1003) carries"))?.state).toBe("passed");
  });

  test("a proxy that drops pushes to the suite's users fails the delivery cases", async () => {
    proxy = await startTamperProxy(endpoints.openimWs, { dropPushesTo: /^t_/ });
    const run = await conformance(
      "drop-pushes",
      { wsURL: `${proxy.url}/msg_gateway`, openimWs: proxy.url },
      "messaging",
      "reaches the receiver with seq|ack \\(1003\\) carries",
    );
    await proxy.close();
    proxy = undefined;
    expect(run.code, run.output).toBe(1);
    expect(failedNames(run.results)).toContain(
      "a text sent over the WebSocket through nginx reaches the receiver with seq, sender and content",
    );
    expect(run.results.cases.find((c) => c.name.startsWith("the ack (1003) carries"))?.state).toBe("passed");
  });
});
