import { userToken } from "./admin-api.js";
import type { StackEnv } from "./env.js";
import { GatewaySocket } from "./gateway-socket.js";
import type { Ledger } from "./ledger.js";
import * as m from "./metrics.js";

/** How long a connect may take before it counts as an error (cutover's driver default). */
export const CONNECT_TIMEOUT_MS = 10_000;
export const ACK_TIMEOUT_MS = 10_000;

/** A user token, timed as `login` (admin API: what openim-direct's login is); undefined on failure, counted. */
export async function timedLogin(env: StackEnv, admin: string, userID: string): Promise<string | undefined> {
  const started = Date.now();
  try {
    const token = await userToken(env, admin, userID);
    m.login.add(Date.now() - started);
    m.logins.add(1);
    // Zero samples too: k6 writes a metric only once it has one, and thresholds need it there.
    m.loginErrors.add(0);
    return token;
  } catch {
    m.loginErrors.add(1);
    return undefined;
  }
}

/** Opens `userID`'s connection, timed as `connect`; its pushes go to the ledger. Undefined on failure, counted. */
export async function timedConnect(
  env: StackEnv,
  userID: string,
  token: string,
  ledger?: Ledger,
): Promise<GatewaySocket | undefined> {
  const started = Date.now();
  try {
    const socket = await GatewaySocket.open(env.openimWs, userID, token, env.platformID, CONNECT_TIMEOUT_MS);
    m.connect.add(Date.now() - started);
    m.connects.add(1);
    m.connectErrors.add(0);
    if (ledger)
      socket.onPush = (msgs) => {
        const at = Date.now();
        for (const msg of msgs) ledger.arrived(userID, msg.text, at);
      };
    return socket;
  } catch {
    m.connectErrors.add(1);
    return undefined;
  }
}

/** Sends one stamped text and puts it in the books once acked; the ack is timed from the stamp. */
export async function sendStamped(
  ledger: Ledger,
  from: GatewaySocket,
  platformID: number,
  to: { recvID: string } | { groupID: string },
  recipients: string[],
  size: number,
): Promise<boolean> {
  const s = ledger.stamp(size);
  m.sent.add(1);
  try {
    await from.sendText(
      { ...to, platformID, clientMsgID: s.id.replace(/\W/g, ""), text: s.text },
      ACK_TIMEOUT_MS,
    );
  } catch {
    m.sendErrors.add(1);
    return false;
  }
  m.ack.add(Date.now() - s.stampedAt);
  m.acked.add(1);
  m.sendErrors.add(0);
  ledger.expect(s.id, s.stampedAt, recipients);
  return true;
}

export async function closeAll(sockets: (GatewaySocket | undefined)[]): Promise<void> {
  await Promise.all(sockets.map((s) => s?.close()));
}
