import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { openimModuleDir } from "./artifacts.js";
import { editOpenImConfig, writeOpenImConfig } from "./openim-config.js";
import { assignPorts, PORT_COUNT, portCount } from "./ports-plan.js";

const ports = assignPorts(Array.from({ length: PORT_COUNT }, (_, i) => 21000 + i));
const input = {
  logDir: "/run/logs",
  ports,
  adminSecret: "s3cret",
  adminUserID: "imAdmin",
  webhookURL: "http://127.0.0.1:1/webhooks",
  redisPassword: "openIM123",
};

describe("OpenIM config for a run", () => {
  test("offline push never calls an outside service", () => {
    const doc = editOpenImConfig(
      "openim-push.yml",
      { enable: "geTui", rpc: { ports: [10170, 10171] } },
      input,
    );
    expect(doc.enable).toBe("none");
    expect(doc.rpc).toMatchObject({
      ports: [ports.rpc["openim-push"]],
      listenIP: "127.0.0.1",
      registerIP: "127.0.0.1",
    });
  });

  test("every service uses the run's own ports, its Prometheus endpoint included", () => {
    const api = editOpenImConfig(
      "openim-api.yml",
      { api: { listenIP: "0.0.0.0", ports: [10002] }, prometheus: { enable: true } },
      input,
    );
    expect(api).toMatchObject({
      api: { listenIP: "127.0.0.1", ports: [ports.openimApi] },
      prometheus: { enable: true, ports: [ports.metrics["openim-api"]] },
    });
    expect(api).not.toHaveProperty("rpc");
    const transfer = editOpenImConfig(
      "openim-msgtransfer.yml",
      { prometheus: { enable: true, ports: [12020] } },
      input,
    );
    expect(transfer).toEqual({ prometheus: { enable: true, ports: [ports.metrics["openim-msgtransfer"]] } });
    const crontask = editOpenImConfig("openim-crontask.yml", { cronExecuteTime: "0 2 * * *" }, input);
    expect(crontask).not.toHaveProperty("prometheus");
    const gw = editOpenImConfig("openim-msggateway.yml", { longConnSvr: { ports: [10001] }, rpc: {} }, input);
    expect(gw).toMatchObject({
      longConnSvr: { ports: [ports.openimWs] },
      rpc: { ports: [ports.rpc["openim-msggateway"]] },
    });
  });

  test("several message gateways: one WebSocket and one RPC port per instance, in index order, instance 0 unchanged", () => {
    const three = assignPorts(
      Array.from({ length: portCount(3) }, (_, i) => 22000 + i),
      3,
    );
    expect(three.msgGateways).toHaveLength(3);
    expect(three.msgGateways[0]).toEqual({
      ws: three.openimWs,
      rpc: three.rpc["openim-msggateway"],
      metrics: three.metrics["openim-msggateway"],
    });
    const all = [
      ...Object.values(three).filter((v) => typeof v === "number"),
      ...Object.values(three.rpc),
      ...Object.values(three.metrics),
      ...three.msgGateways.slice(1).flatMap((g) => [g.ws, g.rpc, g.metrics]),
    ];
    expect(new Set(all).size).toBe(portCount(3));
    const gw = editOpenImConfig(
      "openim-msggateway.yml",
      { longConnSvr: { ports: [10001] }, rpc: { ports: [10140, 10141] }, prometheus: { ports: [12140] } },
      { ...input, ports: three },
    );
    // `-i <index>` picks longConnSvr.ports[index] and rpc.ports[index] (server: internal/msggateway/init.go Start)
    expect(gw).toMatchObject({
      longConnSvr: { ports: three.msgGateways.map((g) => g.ws) },
      rpc: { ports: three.msgGateways.map((g) => g.rpc) },
      prometheus: { enable: true, ports: three.msgGateways.map((g) => g.metrics) },
    });
  });

  test("dependencies are addressed on 127.0.0.1, Mongo by a URI without credentials", () => {
    expect(editOpenImConfig("redis.yml", { address: ["localhost:16379"] }, input).address).toEqual([
      `127.0.0.1:${ports.redis}`,
    ]);
    expect(editOpenImConfig("mongodb.yml", {}, input).uri).toBe(
      `mongodb://127.0.0.1:${ports.mongo}/openim_v3?maxPoolSize=100`,
    );
    expect(
      editOpenImConfig("discovery.yml", { etcd: { address: ["localhost:12379"] } }, input),
    ).toMatchObject({
      enable: "etcd",
      etcd: { address: [`127.0.0.1:${ports.etcd}`] },
    });
  });

  const stock = path.join(openimModuleDir("3.8.3"), "config");
  test.skipIf(!existsSync(stock))(
    "the rendered folder from OpenIM's stock config mentions no localhost or outside host",
    () => {
      const target = mkdtempSync(path.join(os.tmpdir(), "cutover-openim-config-"));
      writeOpenImConfig({ ...input, sourceDir: stock, targetDir: target });
      const files = readdirSync(target);
      expect(files).toContain("share.yml");
      for (const file of files) {
        const text = readFileSync(path.join(target, file), "utf8");
        expect(text, file).not.toMatch(/localhost|0\.0\.0\.0/);
      }
      expect(parse(readFileSync(path.join(target, "share.yml"), "utf8"))).toMatchObject({
        secret: "s3cret",
        imAdminUserID: ["imAdmin"],
      });
    },
  );

  test.skipIf(!existsSync(stock))(
    "shipped: the send webhooks stay as OpenIM ships them (off) and logs keep debug level; cutover's turns them on",
    () => {
      const render = (shipped: boolean) => {
        const target = mkdtempSync(path.join(os.tmpdir(), "cutover-openim-config-"));
        writeOpenImConfig({ ...input, sourceDir: stock, targetDir: target, shipped });
        const read = (f: string) =>
          parse(readFileSync(path.join(target, f), "utf8")) as Record<string, unknown>;
        return {
          webhooks: read("webhooks.yml"),
          log: read("log.yml"),
          stock: parse(readFileSync(path.join(stock, "log.yml"), "utf8")) as Record<string, unknown>,
        };
      };
      const hooks = ["beforeSendSingleMsg", "beforeSendGroupMsg", "afterSendSingleMsg", "afterSendGroupMsg"];
      const shipped = render(true);
      for (const h of hooks) expect(shipped.webhooks[h], h).toMatchObject({ enable: false });
      expect(shipped.webhooks.url).toBe(input.webhookURL);
      expect(shipped.log.remainLogLevel).toBe(shipped.stock.remainLogLevel);
      const cutover = render(false);
      for (const h of hooks) expect(cutover.webhooks[h], h).toMatchObject({ enable: true });
      expect(cutover.log.remainLogLevel).toBe(3);
    },
  );
});
