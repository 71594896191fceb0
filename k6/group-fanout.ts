/**
 * group-fanout as a k6 script: one sender per group, every other member must receive every
 * message (cutover's scenarios/group-fanout.ts: constant-arrival-rate 10/s for 30s, 100 users
 * in groups of 50, thresholds e2e_last.p99 < 500ms and lost == 0).
 *
 *   npm run k6:build && k6 run -e OPENIM_API=… -e OPENIM_WS=… -e GROUP_SIZE=50 k6/dist/group-fanout.js
 *
 * Each VU owns one group (USERS / GROUP_SIZE VUs). An iteration connects every member,
 * the owner sends a stamped text, each member's push is timed as `e2e` and the last one as
 * `e2e_last`, the books settle, all disconnect. Timing and tokens as in direct-chat.ts: from
 * the stamp written just before the send (k6 does not expose an iteration's scheduled time),
 * tokens from the admin API (k6's WebCrypto has no X25519 for the gateway's DH login).
 * GROUP_SIZE sockets per iteration is the price of k6/websockets ending an iteration only
 * when its sockets are closed. With the defaults that is 2 VUs (2 groups), so at most 2
 * iterations in flight: when k6 reports dropped_iterations, raise USERS (more groups) rather
 * than read the latencies of a rate that was not offered.
 */
import type { Options } from "k6/options";
import { adminToken, createGroup, newUserID, registerUsers } from "./lib/admin-api.js";
import { durationMs, envNumber, envText, stackEnv } from "./lib/env.js";
import { Ledger, waitForDeliveries } from "./lib/ledger.js";
import { closeAll, sendStamped, timedConnect, timedLogin } from "./lib/session.js";

const RATE = envNumber("RATE", 10);
const USERS = envNumber("USERS", 100);
const GROUP_SIZE = Math.max(2, envNumber("GROUP_SIZE", 50));
const DURATION = envText("DURATION", "30s");
const DRAIN = envText("DRAIN", "10s");
const PAYLOAD = envNumber("PAYLOAD", 200);
const GROUPS = Math.max(1, Math.floor(USERS / GROUP_SIZE));

export const options: Options = {
  scenarios: {
    "group-fanout": {
      executor: "constant-arrival-rate",
      rate: RATE,
      timeUnit: "1s",
      duration: DURATION,
      preAllocatedVUs: GROUPS,
      maxVUs: GROUPS,
    },
  },
  thresholds: { e2e_last: ["p(99)<500"], lost: ["count==0"] },
};

const env = stackEnv();
const ledger = new Ledger();

interface OwnGroup {
  groupID: string;
  members: { userID: string; token: string }[];
}

let group: OwnGroup | undefined;

async function ownGroup(): Promise<OwnGroup | undefined> {
  const admin = await adminToken(env);
  const ids = Array.from({ length: GROUP_SIZE }, (_, i) => newUserID("k6gf", i));
  await registerUsers(env, admin, ids);
  const [owner = "", ...rest] = ids;
  const groupID = await createGroup(env, admin, owner, rest);
  const tokens = await Promise.all(ids.map((id) => timedLogin(env, admin, id)));
  const members: OwnGroup["members"] = [];
  ids.forEach((userID, i) => {
    const token = tokens[i];
    if (token) members.push({ userID, token });
  });
  return members.length === ids.length ? { groupID, members } : undefined;
}

export default async function (): Promise<void> {
  group ??= await ownGroup();
  if (!group) return;
  const sockets = await Promise.all(group.members.map((u) => timedConnect(env, u.userID, u.token, ledger)));
  const [sender, ...receivers] = sockets;
  if (sender && receivers.every((s) => s !== undefined)) {
    const recipients = group.members.slice(1).map((u) => u.userID);
    await sendStamped(ledger, sender, env.platformID, { groupID: group.groupID }, recipients, PAYLOAD);
    await waitForDeliveries(ledger, durationMs(DRAIN));
    ledger.settle();
  }
  await closeAll(sockets);
}
