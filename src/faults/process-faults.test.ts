import { mkdtempSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { parseFault } from "../load/run-faults.js";
import { isAlive, type ProcessRecord, startProcess, stopProcess } from "../stack/local/processes.js";
import { readState, writeState } from "../stack/local/state.js";
import { sleep } from "../util/time.js";
import {
  armProcessFault,
  clientPorts,
  FaultError,
  packetFilterAvailable,
  prepareProcessFault,
  resolveTarget,
} from "./process-faults.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "cutover-faults-"));
const started: ProcessRecord[] = [];

afterAll(async () => {
  for (const p of started) await stopProcess(p, 1000);
});

/** A stand-in part of a stack: a real process under a stack's name, recorded in a real state file. */
function stackOf(...parts: Array<{ name: string; args: string[] }>) {
  const processes = parts.map((p) => {
    const record = startProcess({
      name: p.name,
      command: process.execPath,
      args: p.args,
      log: path.join(dir, `${p.name}.log`),
    });
    started.push(record);
    return record;
  });
  const stateFile = path.join(dir, `state-${started.length}.json`);
  writeState(stateFile, { phase: "up", startedAt: "", cutoverPid: process.pid, ports: {}, processes });
  return { processes, stateFile, ports: {} as Record<string, unknown> };
}

const idle = ["-e", "setTimeout(() => {}, 60_000)"];
const until = async (ok: () => boolean) => {
  for (let i = 0; i < 200 && !ok(); i++) await sleep(25);
  return ok();
};

describe("faults on the stack's parts", () => {
  test("each is written as a user puts it in a scenario; a bad one is refused in one line", () => {
    expect(parseFault("kill:msgtransfer@10s")).toEqual({ kind: "kill", target: "msgtransfer", atMs: 10_000 });
    expect(parseFault("restart:redis@10s+2s")).toEqual({
      kind: "restart",
      target: "redis",
      atMs: 10_000,
      downMs: 2000,
    });
    expect(parseFault("restart:redis@1s")).toMatchObject({ downMs: 0 });
    expect(parseFault("partition:kafka@10s+5s")).toEqual({
      kind: "partition",
      target: "kafka",
      atMs: 10_000,
      forMs: 5000,
    });
    expect(parseFault("reload:nginx@3s")).toEqual({ kind: "reload", target: "nginx", atMs: 3000 });
    for (const bad of ["partition:kafka@10s", "kill:@1s", "restart:redis@soon"])
      expect(() => parseFault(bad)).toThrow(FaultError);
  });

  test("a target is named as people say it, and an unknown one lists the parts there are", () => {
    const stack = stackOf({ name: "openim-msgtransfer", args: idle }, { name: "openim-rpc-msg", args: idle });
    expect(resolveTarget("msgtransfer", stack.processes).name).toBe("openim-msgtransfer");
    expect(resolveTarget("msg", stack.processes).name).toBe("openim-rpc-msg");
    expect(() => resolveTarget("kafka", stack.processes)).toThrow(
      /not a process of this stack \(openim-msgtransfer, openim-rpc-msg\)/,
    );
  });

  test("each message-gateway instance is a part of its own: msggateway is instance 0, msggateway-1 the next, each with its ports", () => {
    const names = ["openim-msggateway", "openim-msggateway-1"].map((name) => ({ name, args: idle }));
    const stack = stackOf(...names);
    expect(resolveTarget("msggateway", stack.processes).name).toBe("openim-msggateway");
    expect(resolveTarget("msggateway-1", stack.processes).name).toBe("openim-msggateway-1");
    const ports = {
      openimWs: 1001,
      rpc: { "openim-msggateway": 1002 },
      msgGateways: [
        { ws: 1001, rpc: 1002 },
        { ws: 1011, rpc: 1012 },
      ],
    };
    expect(clientPorts("openim-msggateway", ports)).toEqual([1001, 1002]);
    expect(clientPorts("openim-msggateway-1", ports)).toEqual([1011, 1012]);
  });

  test("kill ends the process for good; restart brings it back as it was started, and the run dir knows the new pid", async () => {
    const stack = stackOf({ name: "redis", args: idle }, { name: "kafka", args: idle });
    const [redis, kafka] = stack.processes as [ProcessRecord, ProcessRecord];
    const events: string[] = [];
    await prepareProcessFault({ kind: "restart", target: "redis", atMs: 0, downMs: 50 }, stack);
    armProcessFault(
      { kind: "restart", target: "redis", atMs: 0, downMs: 50 },
      stack,
      (e) => events.push(e),
      0,
    );
    armProcessFault({ kind: "kill", target: "kafka", atMs: 0 }, stack, (e) => events.push(e), 0);
    expect(await until(() => events.some((e) => e.startsWith("redis started again")))).toBe(true);
    expect(isAlive(redis)).toBe(false);
    expect(isAlive(kafka)).toBe(false);
    const now = readState(stack.stateFile)?.processes ?? [];
    const again = now.find((p) => p.name === "redis");
    expect(again?.pid).not.toBe(redis.pid);
    expect(again && isAlive(again)).toBe(true);
    if (again) started.push(again);
    expect(now.find((p) => p.name === "kafka")?.pid).toBe(kafka.pid);
    expect(events).toEqual(expect.arrayContaining(["SIGKILL redis", "SIGKILL kafka"]));
  });

  test("a run that ends before the restart is due still brings the process back", async () => {
    const stack = stackOf({ name: "etcd", args: idle });
    const events: string[] = [];
    const undo = armProcessFault(
      { kind: "restart", target: "etcd", atMs: 0, downMs: 60_000 },
      stack,
      (e) => events.push(e),
      0,
    );
    expect(await until(() => events.includes("SIGKILL etcd"))).toBe(true);
    undo();
    const again = readState(stack.stateFile)?.processes.find((p) => p.name === "etcd");
    expect(again && isAlive(again)).toBe(true);
    if (again) started.push(again);
  });
});

const iptables = packetFilterAvailable();

/** Resolves "connected" or "timeout": a partition makes a new connection hang, not fail fast. */
function tryConnect(port: number, timeoutMs: number): Promise<"connected" | "timeout" | "refused"> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1" });
    const done = (r: "connected" | "timeout" | "refused") => {
      socket.destroy();
      resolve(r);
    };
    socket.setTimeout(timeoutMs, () => done("timeout"));
    socket.once("connect", () => done("connected"));
    socket.once("error", () => done("refused"));
  });
}

describe.skipIf(!iptables)("a partition (needs iptables and root)", () => {
  test("cuts every new connection to the part's port while it lasts, then is lifted", async () => {
    const server = net.createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const stack = { ...stackOf({ name: "redis", args: idle }), ports: { redis: port } };
      const events: string[] = [];
      await prepareProcessFault({ kind: "partition", target: "redis", atMs: 0, forMs: 1500 }, stack);
      armProcessFault(
        { kind: "partition", target: "redis", atMs: 0, forMs: 1500 },
        stack,
        (e) => events.push(e),
        0,
      );
      expect(await until(() => events.some((e) => e.startsWith("partition of redis (port")))).toBe(true);
      expect(await tryConnect(port, 500)).toBe("timeout");
      expect(await until(() => events.includes("partition of redis lifted"))).toBe(true);
      expect(await tryConnect(port, 2000)).toBe("connected");
    } finally {
      server.close();
    }
  });

  test("a part with no port its clients use cannot be partitioned: said before the run", async () => {
    const stack = stackOf({ name: "openim-msgtransfer", args: idle });
    await expect(
      prepareProcessFault({ kind: "partition", target: "msgtransfer", atMs: 0, forMs: 1000 }, stack),
    ).rejects.toThrow(/listens on no port its clients use/);
  });
});
