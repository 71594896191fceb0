import type { ScenarioOptions, VirtualUser } from "../src/load/scenario-contract.js";

/**
 * Logins per second through the whole path an app takes: the gateway's DH exchange and
 * JWT, the imToken it mints, then the WebSocket to OpenIM — and off again, so the next
 * login of the same user is a fresh one. The rate is of logins, not of messages.
 *
 *   cutover load login-storm --rate 20 --duration 20s
 */
export const options: ScenarioOptions = {
  description: "logins/s: gateway DH + JWT → imToken → WebSocket connect, then disconnect",
  model: { kind: "constant-arrival-rate", rate: 20, duration: "20s" },
  users: 200,
  topology: { kind: "solo" },
  connect: "iteration",
  // A user logs in once at a time: a second concurrent login of the same user would kick the first.
  maxInFlightPerUser: 1,
  drain: "5s",
  thresholds: { "login.p99": "< 1000ms", login_errors: "== 0", connect_errors: "== 0" },
};

export default async function (vu: VirtualUser): Promise<void> {
  if (!(await vu.login())) return;
  if (await vu.connect()) await vu.disconnect();
}
