import type { ScenarioOptions, VirtualUser } from "../src/load/scenario-contract.js";

/**
 * Ramps to N idle connections at a fixed connection rate, then holds them (the client's
 * heartbeat keeps each alive) while the SUT's memory is sampled: what a connection costs
 * the message gateway, and whether it holds them all.
 *
 *   cutover load connection-ramp --driver openim-direct --users 10000 --ramp 200:0s,200:50s,0:0s,0:60s
 */
export const options: ScenarioOptions = {
  description:
    "ramp to N idle WebSocket connections, hold, measure connect latency, heartbeat round trips and SUT memory",
  // openim-direct: accounts by the thousand through the admin API; the gateway registers one per call.
  driver: "openim-direct",
  model: {
    kind: "ramping-arrival-rate",
    startRate: 100,
    stages: [
      { target: 100, duration: "10s" }, // 1,000 connections
      { target: 0, duration: 0 },
      { target: 0, duration: "30s" }, // hold, idle: long enough for every connection's first 25 s heartbeat
    ],
  },
  users: 1000,
  topology: { kind: "solo" },
  connect: "iteration",
  maxInFlightPerUser: 1,
  drain: "1s",
  thresholds: {
    "connect.p99": "< 1000ms",
    connect_errors: "== 0",
    login_errors: "== 0",
    // Every connection held through the hold (the client heartbeats every 25 s; the server drops silent ones).
    dropped_connections: "== 0",
  },
};

export default async function (vu: VirtualUser): Promise<void> {
  // Each user connects once; an operation that lands on a connected user has nothing to do.
  if (vu.connected) return;
  if (await vu.login()) await vu.connect();
}
