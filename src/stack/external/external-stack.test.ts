import os from "node:os";
import { describe, expect, test } from "vitest";
import { parseConfig } from "../../config/load.js";
import { describeEnvironment } from "../../run/environment.js";
import { CutoverError } from "../../util/errors.js";
import { defaultWsURL, externalProfile, externalTarget } from "./external-stack.js";

const config = (external: Record<string, unknown>) => parseConfig({ stack: { kind: "external", external } });

describe("external stack: endpoints from the config", () => {
  test("every offered URL lands in the same endpoints object the other providers return", () => {
    const runDir = os.tmpdir();
    const target = externalTarget(
      config({
        label: "staging",
        nginx: "https://chat.example.test/",
        gateway: "https://gw.example.test",
        openimApi: "https://im-api.example.test/",
        openimWs: "wss://im-ws.example.test",
        adminSecret: "secret",
        adminUserID: "opsAdmin",
        redis: "rediss://:pw@cache.example.test:6380",
        gatewayAdmin: { userID: "ops", password: "pw" },
        prometheus: "https://prom.example.test/",
        localRunDir: runDir,
      }),
    );
    expect(target.endpoints).toEqual({
      stack: "external",
      nginx: "https://chat.example.test",
      wsURL: "wss://chat.example.test/msg_gateway",
      gateway: "https://gw.example.test",
      openimApi: "https://im-api.example.test",
      openimWs: "wss://im-ws.example.test",
      redis: "rediss://:pw@cache.example.test:6380",
      gatewayAdmin: { userID: "ops", password: "pw" },
      prometheus: "https://prom.example.test",
      adminSecret: "secret",
      adminUserID: "opsAdmin",
      parts: [expect.objectContaining({ name: "deployment", what: "staging at https://chat.example.test" })],
    });
    expect(target.profile).toMatchObject({ adminAccess: true, redisAccess: true, localFiles: true });
    expect(target.localRunDir).toBe(runDir);
  });

  test("only the edge: the WebSocket URL follows nginx, and admin, Redis and files are not offered", () => {
    const target = externalTarget(config({ nginx: "http://127.0.0.1:8080" }));
    expect(target.endpoints).toMatchObject({
      wsURL: "ws://127.0.0.1:8080/msg_gateway",
      openimApi: "",
      redis: "",
      adminSecret: "",
      adminUserID: "imAdmin",
    });
    expect(target.profile).toMatchObject({ adminAccess: false, redisAccess: false, localFiles: false });
    expect(defaultWsURL("https://x.test/chat/")).toBe("wss://x.test/chat/msg_gateway");
  });

  test("the profile: explicit settings win, and claiming what is not configured is a config error", () => {
    const offered = {
      nginx: "http://a.test",
      openimApi: "http://b.test",
      adminSecret: "s",
      redis: "redis://c:1",
    };
    expect(
      externalProfile(config({ ...offered, profile: { redisAccess: false, multiLoginPolicy: 0 } })),
    ).toMatchObject({
      adminAccess: true,
      redisAccess: false,
      multiLoginPolicy: 0,
      moderationWebhooks: true,
    });
    expect(() => externalProfile(config({ nginx: "http://a.test", profile: { adminAccess: true } }))).toThrow(
      /stack\.external\.profile\.adminAccess is true but stack\.external\.openimApi and stack\.external\.adminSecret/,
    );
    expect(() => config({ nginx: "http://a.test", profile: { unknownKey: true } })).toThrow(
      /Unrecognized key/,
    );
  });

  test("without stack.external.nginx: a usage error (exit 2) naming the field", () => {
    let error: unknown;
    try {
      externalTarget(config({}));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CutoverError);
    expect((error as CutoverError).exitCode).toBe(2);
    expect((error as CutoverError).message).toMatch(/^--stack external needs stack\.external\.nginx/);
  });
});

describe("honest environment reporting", () => {
  test("an external target is named as not started by cutover, with what it does not offer", () => {
    const { endpoints, profile } = externalTarget(config({ nginx: "https://chat.example.test" }));
    const env = describeEnvironment(endpoints, profile);
    expect(env).toMatchObject({ stack: "external", startedByCutover: false, generatorSharesMachine: false });
    expect(env.caveats.join("\n")).toMatch(/not started by cutover/);
    expect(env.caveats.join("\n")).toMatch(/network between this machine and the target/);
    expect(env.caveats.join("\n")).toMatch(/admin calls are not allowed/);
  });

  test("an external target on loopback shares the machine with the generator", () => {
    const { endpoints } = externalTarget(config({ nginx: "http://127.0.0.1:8080" }));
    const env = describeEnvironment(endpoints);
    expect(env.generatorSharesMachine).toBe(true);
    expect(env.caveats.join("\n")).toMatch(/shares this machine/);
  });
});
