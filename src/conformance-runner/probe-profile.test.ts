import { describe, expect, test } from "vitest";
import type { StackEndpoints } from "../stack/endpoints.js";
import { findingLines, probeProfile } from "./probe-profile.js";
import { defaultProfile } from "./profile.js";

// A target offering only its edge: nothing can be probed, so every setting is said to be
// configured or assumed — never presented as probed. (Probing itself runs against the real
// stack in the integration tests: test/shipped-config.test.ts, test/stack-external.test.ts.)
const edgeOnly: StackEndpoints = {
  stack: "external",
  nginx: "http://127.0.0.1:1",
  wsURL: "ws://127.0.0.1:1/msg_gateway",
  openimApi: "",
  openimWs: "",
  redis: "",
  adminSecret: "",
  adminUserID: "imAdmin",
  parts: [],
};

describe("the target profile where nothing can be probed", () => {
  test("a setting the config states is 'configured', the rest 'assumed', each with why it was not probed", async () => {
    const { profile, findings } = await probeProfile({
      endpoints: edgeOnly,
      profile: { ...defaultProfile(), multiLoginPolicy: 0, adminAccess: false, redisAccess: false },
      explicit: { multiLoginPolicy: 0 },
    });
    expect(profile.multiLoginPolicy).toBe(0);
    const by = (s: string) => findings.find((f) => f.setting === s);
    expect(by("multiLoginPolicy")).toMatchObject({ value: "0", how: "configured" });
    expect(by("multiLoginPolicy")?.detail).toMatch(/not probed: admin calls are not allowed/);
    expect(by("moderationWebhooks")).toMatchObject({ value: "true", how: "assumed" });
    expect(by("moderationWebhooks")?.detail).toMatch(/no gateway admin account/);
    expect(by("adminAccess")).toMatchObject({ value: "false", how: "configured" });
    expect(by("logLevel")).toMatchObject({ value: "unknown", how: "assumed" });
  });

  test("the results' caveats name every setting that was not simply offered by the config", async () => {
    const { findings } = await probeProfile({ endpoints: edgeOnly, profile: defaultProfile() });
    const lines = findingLines(findings);
    expect(lines.some((l) => l.startsWith("profile moderationWebhooks = true (assumed)"))).toBe(true);
    expect(lines.some((l) => l.includes("adminAccess"))).toBe(false);
  });
});
