/**
 * connection-ramp as a k6 script: ramp to N idle connections at a fixed connection rate,
 * then hold them, each kept alive by the client's heartbeat (cutover's
 * scenarios/connection-ramp.ts: ramping-arrival-rate 100/s for 10s = 1,000 connections,
 * then a 30 s hold; thresholds connect.p99 < 1000ms, connect_errors == 0,
 * login_errors == 0, dropped_connections == 0).
 *
 *   npm run k6:build && k6 run -e OPENIM_API=… -e OPENIM_WS=… k6/dist/connection-ramp.js
 *
 * Each iteration is one new user: registered and given a token through the admin API (k6's
 * WebCrypto has no X25519 for the gateway's DH login), connected, and held until the end of
 * the hold, pinging every 25 s; a connection the server closes meanwhile is counted in
 * dropped_connections. A held connection is a busy VU, so maxVUs is the connection count:
 * k6 VUs cost memory on the generator, one per connection.
 */
import exec from "k6/execution";
import type { Options } from "k6/options";
import { clearInterval, clearTimeout, setInterval, setTimeout } from "k6/timers";
import { adminToken, newUserID, registerUsers } from "./lib/admin-api.js";
import { durationMs, envNumber, envText, stackEnv } from "./lib/env.js";
import * as m from "./lib/metrics.js";
import { closeAll, timedConnect, timedLogin } from "./lib/session.js";

const RATE = envNumber("RATE", 100);
const RAMP = envText("RAMP", "10s");
const HOLD = envText("HOLD", "30s");
const HEARTBEAT_MS = envNumber("HEARTBEAT_MS", 25_000);
const CONNECTIONS = Math.ceil((RATE * durationMs(RAMP)) / 1000);

export const options: Options = {
  scenarios: {
    "connection-ramp": {
      executor: "ramping-arrival-rate",
      startRate: RATE,
      timeUnit: "1s",
      preAllocatedVUs: CONNECTIONS,
      maxVUs: CONNECTIONS,
      stages: [
        { target: RATE, duration: RAMP },
        { target: 0, duration: "0s" },
        { target: 0, duration: HOLD },
      ],
      // The held connections close at the end of the hold; give them time to.
      gracefulStop: "10s",
    },
  },
  thresholds: {
    connect: ["p(99)<1000"],
    connect_errors: ["count==0"],
    login_errors: ["count==0"],
    dropped_connections: ["count==0"],
  },
};

const env = stackEnv();
let admin: string | undefined;
let n = 0;

/** Until the end of the ramp + hold, measured from the scenario's start (k6/execution startTime). */
function holdLeftMs(): number {
  return exec.scenario.startTime + durationMs(RAMP) + durationMs(HOLD) - Date.now();
}

export default async function (): Promise<void> {
  admin ??= await adminToken(env);
  const userID = newUserID("k6cr", n++);
  await registerUsers(env, admin, [userID]);
  const token = await timedLogin(env, admin, userID);
  if (!token) return;
  const socket = await timedConnect(env, userID, token);
  if (!socket) return;
  let dropped = false;
  socket.onDropped = () => {
    dropped = true;
    m.droppedConnections.add(1);
  };
  socket.keepAlive(HEARTBEAT_MS);
  await new Promise<void>((resolve) => {
    const left = Math.max(0, holdLeftMs());
    const timer = setTimeout(resolve, left);
    // A drop ends the hold early: poll a flag rather than keep a second handler.
    const poll = setInterval(() => {
      if (!dropped) return;
      clearTimeout(timer);
      clearInterval(poll);
      resolve();
    }, 100);
    setTimeout(() => clearInterval(poll), left + 1);
  });
  m.droppedConnections.add(0);
  await closeAll([socket]);
}
