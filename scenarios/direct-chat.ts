import type { ScenarioOptions, VirtualUser } from "../src/load/scenario-contract.js";

/**
 * Pairs of users chatting at a target total rate. Each message is stamped with its
 * intended send time; the ack and the delivery to the peer are both timed from it.
 *
 *   cutover load direct-chat --rate 200 --duration 20s --out out/
 */
export const options: ScenarioOptions = {
  description: "pairs of users chatting one-to-one at a fixed total rate",
  model: { kind: "constant-arrival-rate", rate: 200, duration: "30s" },
  users: 100,
  topology: { kind: "pairs" },
  drain: "10s",
  thresholds: { "e2e.p99": "< 200ms", lost: "== 0" },
};

export default async function (vu: VirtualUser): Promise<void> {
  await vu.sendText(vu.peer(), vu.payload(200));
}
