/**
 * direct-chat as a k6 script: pairs of users chatting one-to-one at a fixed total rate
 * (cutover's scenarios/direct-chat.ts: constant-arrival-rate 200/s for 30s, 100 users in
 * pairs, thresholds e2e.p99 < 200ms and lost == 0).
 *
 *   npm run k6:build && k6 run -e OPENIM_API=http://… -e OPENIM_WS=ws://… k6/dist/direct-chat.js
 *
 * What each iteration does: the VU's pair connects (k6/websockets: a socket kept open would
 * keep the iteration from ending), one of them sends a 200-character text stamped with its id
 * and send time, the ack and the push to the peer are timed, the books settle (what has not
 * arrived within DRAIN is lost), both disconnect.
 *
 * What is timed from where: k6 starts arrival-rate iterations on schedule or drops them
 * (dropped_iterations) and does not give a script its iteration's scheduled time
 * (k6/execution has the scenario's startTime, not the iteration's; its iterationInTest counts
 * iterations started — grafana/k6 lib/executor/base_executor.go nextIterationCounters — so after
 * a drop startTime + iterationInTest / rate is no longer the slot). So `ack` and `e2e` run
 * from the stamp written just before the send, after this iteration's connects, which are
 * timed separately as `connect`. cutover's own `ack`/`e2e` run from the intended send time on
 * connections opened at setup.
 *
 * Tokens come from OpenIM's admin API, as cutover's openim-direct driver gets them: k6's
 * WebCrypto has no X25519, so the gateway's DH login cannot be done from k6.
 */
import type { Options } from "k6/options";
import { adminToken, newUserID, registerUsers } from "./lib/admin-api.js";
import { durationMs, envNumber, envText, stackEnv } from "./lib/env.js";
import { Ledger, waitForDeliveries } from "./lib/ledger.js";
import { closeAll, sendStamped, timedConnect, timedLogin } from "./lib/session.js";

const RATE = envNumber("RATE", 200);
const USERS = envNumber("USERS", 100);
const DURATION = envText("DURATION", "30s");
const DRAIN = envText("DRAIN", "10s");
const PAYLOAD = envNumber("PAYLOAD", 200);
const PAIRS = Math.max(1, Math.floor(USERS / 2));

export const options: Options = {
  scenarios: {
    "direct-chat": {
      executor: "constant-arrival-rate",
      rate: RATE,
      timeUnit: "1s",
      duration: DURATION,
      // One pair per VU: a user logged in twice on one platform would kick itself.
      preAllocatedVUs: PAIRS,
      maxVUs: PAIRS,
    },
  },
  thresholds: { e2e: ["p(99)<200"], lost: ["count==0"] },
};

const env = stackEnv();
const ledger = new Ledger();
/** The VU's two users and their tokens, made on its first iteration (tokens live for days). */
let pair: { userID: string; token: string }[] | undefined;
let turn = 0;

async function ownPair(): Promise<{ userID: string; token: string }[] | undefined> {
  const admin = await adminToken(env);
  const ids = [newUserID("k6dc", 0), newUserID("k6dc", 1)];
  await registerUsers(env, admin, ids);
  const tokens = await Promise.all(ids.map((id) => timedLogin(env, admin, id)));
  const out: { userID: string; token: string }[] = [];
  ids.forEach((userID, i) => {
    const token = tokens[i];
    if (token) out.push({ userID, token });
  });
  return out.length === 2 ? out : undefined;
}

export default async function (): Promise<void> {
  pair ??= await ownPair();
  const [a, b] = pair ?? [];
  if (!a || !b) return;
  const [from, to] = turn++ % 2 === 0 ? [a, b] : [b, a];
  const [sender, receiver] = await Promise.all([
    timedConnect(env, from.userID, from.token, ledger),
    timedConnect(env, to.userID, to.token, ledger),
  ]);
  if (sender && receiver) {
    await sendStamped(ledger, sender, env.platformID, { recvID: to.userID }, [to.userID], PAYLOAD);
    await waitForDeliveries(ledger, durationMs(DRAIN));
    ledger.settle();
  }
  await closeAll([sender, receiver]);
}
