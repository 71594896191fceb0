/**
 * login-storm as a k6 script: logins per second, each one a fresh token and a WebSocket to
 * OpenIM, then off again (cutover's scenarios/login-storm.ts: constant-arrival-rate 20/s for
 * 20s, 200 users, thresholds login.p99 < 1000ms, login_errors == 0, connect_errors == 0).
 *
 *   npm run k6:build && k6 run -e OPENIM_API=… -e OPENIM_WS=… k6/dist/login-storm.js
 *
 * `login` here is OpenIM's admin get_user_token, as cutover's openim-direct driver logs in —
 * not the gateway's DH exchange + JWT: k6's WebCrypto has no X25519, so a k6 script cannot do
 * that handshake. `login` and `connect` run from the iteration's actual start (k6 starts
 * arrival-rate iterations on schedule or drops them, counted as dropped_iterations).
 */
import type { Options } from "k6/options";
import { adminToken, newUserID, registerUsers } from "./lib/admin-api.js";
import { envNumber, envText, stackEnv } from "./lib/env.js";
import { closeAll, timedConnect, timedLogin } from "./lib/session.js";

const RATE = envNumber("RATE", 20);
const USERS = envNumber("USERS", 200);
const DURATION = envText("DURATION", "20s");

export const options: Options = {
  scenarios: {
    "login-storm": {
      executor: "constant-arrival-rate",
      rate: RATE,
      timeUnit: "1s",
      duration: DURATION,
      // One user per VU, logged in once at a time (a second login of the same user would kick the first).
      preAllocatedVUs: USERS,
      maxVUs: USERS,
    },
  },
  thresholds: { login: ["p(99)<1000"], login_errors: ["count==0"], connect_errors: ["count==0"] },
};

const env = stackEnv();
let user: { userID: string; admin: string } | undefined;

export default async function (): Promise<void> {
  if (!user) {
    const admin = await adminToken(env);
    const userID = newUserID("k6ls", 0);
    await registerUsers(env, admin, [userID]);
    user = { userID, admin };
  }
  const token = await timedLogin(env, user.admin, user.userID);
  if (!token) return;
  await closeAll([await timedConnect(env, user.userID, token)]);
}
