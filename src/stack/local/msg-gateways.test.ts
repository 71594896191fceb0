import { describe, expect, test } from "vitest";
import type { Artifacts } from "./artifacts.js";
import { openimServices } from "./services.js";

const artifacts: Artifacts = {
  openimBin: "/bin/openim",
  s3Standin: "",
  mongoStandinJar: "",
  kafkaLibs: "",
  prometheus: "",
};

describe("several message gateways", () => {
  test("one openim-msggateway process per instance, each with its index (-i); instance 0 keeps the one-gateway name", () => {
    const gateways = openimServices(artifacts, "/run/config", 3).filter((s) =>
      s.command.endsWith("/openim-msggateway"),
    );
    expect(gateways.map((s) => [s.name, s.args.at(-1)])).toEqual([
      ["openim-msggateway", "0"],
      ["openim-msggateway-1", "1"],
      ["openim-msggateway-2", "2"],
    ]);
    // Every other OpenIM command runs once, as before.
    expect(openimServices(artifacts, "/run/config", 3)).toHaveLength(14);
    expect(openimServices(artifacts, "/run/config").map((s) => s.name)).not.toContain("openim-msggateway-1");
  });
});
