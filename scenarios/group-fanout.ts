import type { ScenarioOptions, VirtualUser } from "../src/load/scenario-contract.js";

/**
 * Groups of a configurable size, one sender each; every other member must receive every
 * message. Records delivery to each member and the time to the last one.
 *
 *   cutover load group-fanout --group-size 50 --users 100 --rate 10 --duration 20s
 */
export const options: ScenarioOptions = {
  description: "one sender per group, every member receives (fan-out)",
  model: { kind: "constant-arrival-rate", rate: 10, duration: "30s" },
  users: 100,
  topology: { kind: "groups", size: 50 },
  drain: "10s",
  thresholds: { "e2e_last.p99": "< 500ms", lost: "== 0" },
};

export default async function (vu: VirtualUser): Promise<void> {
  await vu.sendText(vu.group(), vu.payload(200));
}
