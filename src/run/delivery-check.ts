import {
  createRestClient,
  decodeText,
  getAdminToken,
  getUserToken,
  OpenImWsClient,
  type ReceivedMsg,
  registerUsers,
  uniqueUserID,
} from "../protocol/index.js";
import type { StackEndpoints } from "../stack/endpoints.js";

export interface DeliveryCheck {
  ok: boolean;
  detail: string;
  sendAckMs?: number;
  deliveryMs?: number;
  seq?: number;
}

/**
 * The smallest proof the message path works as clients use it: two fresh users log in
 * over the WebSocket through nginx, one sends a text, the other receives it with a seq.
 */
export async function checkDelivery(endpoints: StackEndpoints, timeoutMs = 10_000): Promise<DeliveryCheck> {
  const rest = createRestClient({ baseUrl: endpoints.openimApi, connections: 2 });
  const clients: OpenImWsClient[] = [];
  try {
    const { token: adminToken } = await getAdminToken(rest, endpoints.adminSecret, endpoints.adminUserID);
    const [sender, receiver] = [uniqueUserID("smoke_a"), uniqueUserID("smoke_b")];
    await registerUsers(rest, adminToken, [{ userID: sender }, { userID: receiver }]);
    const connect = async (userID: string) => {
      const { token } = await getUserToken(rest, adminToken, userID, 3);
      const client = await OpenImWsClient.connect({
        wsUrl: endpoints.wsURL,
        userID,
        token,
        platformID: 3,
        heartbeat: false,
        reconnect: false,
      });
      clients.push(client);
      return client;
    };
    const [a, b] = [await connect(sender), await connect(receiver)];
    const text = `cutover delivery check ${Date.now()}`;
    const started = performance.now();
    const arrived = new Promise<{ msg: ReceivedMsg; at: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not delivered within ${timeoutMs} ms`)), timeoutMs);
      b.on("push", (msgs) => {
        const msg = msgs.find((m) => decodeText(m) === text);
        if (!msg) return;
        clearTimeout(timer);
        resolve({ msg, at: performance.now() });
      });
    });
    await a.sendText({ recvID: receiver, text });
    const sendAckMs = performance.now() - started;
    const { msg, at } = await arrived;
    const deliveryMs = at - started;
    return {
      ok: true,
      detail: `${sender} → ${receiver} via nginx: ack ${sendAckMs.toFixed(0)} ms, delivered ${deliveryMs.toFixed(0)} ms, seq ${msg.seq}`,
      sendAckMs,
      deliveryMs,
      seq: Number(msg.seq),
    };
  } catch (err) {
    return { ok: false, detail: err instanceof Error ? err.message : String(err) };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await rest.close();
  }
}
