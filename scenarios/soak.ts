import type { ScenarioOptions, VirtualUser } from "../src/load/scenario-contract.js";

/**
 * A steady mix for hours: every user chats one-to-one with a partner and, one message in
 * ten, writes to its group of six. Per-interval histograms go to the interval log as the
 * run goes; at the end e2e p99 and the SUT's memory are fitted over the run, and an
 * upward trend is flagged as drift (threshold `drift == 0`).
 *
 *   cutover load soak --duration 4h --rate 100
 */
export const options: ScenarioOptions = {
  description: "steady one-to-one + group mix for hours, with drift detection on latency and SUT memory",
  model: { kind: "constant-arrival-rate", rate: 50, duration: "1h" },
  users: 60,
  topology: { kind: "groups", size: 6, mixed: true },
  drain: "15s",
  drift: { e2eP99MaxRatio: 1.5, rssMaxRatio: 1.25, skipFirst: 30 },
  thresholds: { "e2e.p99": "< 500ms", lost: "== 0", drift: "== 0" },
};

export default async function (vu: VirtualUser): Promise<void> {
  const to = Math.random() < 0.1 ? vu.group() : vu.peer();
  await vu.sendText(to, vu.payload(200));
}
