import {
  createRestClient,
  getAdminToken,
  getUserToken,
  OpenImError,
  OpenImWsClient,
  registerUsers,
} from "../../protocol/index.js";

/**
 * OpenIM is ready when the admin token is issued and each RPC service behind the API
 * answers a harmless admin call; the services find each other through etcd in any order.
 * Resolves with the admin token.
 */
export async function openimAnswers(base: string, secret: string, adminUserID: string): Promise<string> {
  const rest = createRestClient({ baseUrl: base, timeoutMs: 3000, connections: 2 });
  try {
    const { token } = await getAdminToken(rest, secret, adminUserID);
    const probes: Array<[string, unknown]> = [
      ["user/get_users_info", { userIDs: [adminUserID] }],
      ["group/get_groups_info", { groupIDs: ["cutover_probe_none"] }],
      ["friend/get_friend_list", { userID: adminUserID, pagination: { pageNumber: 1, showNumber: 1 } }],
      ["conversation/get_conversations", { ownerUserID: adminUserID, conversationIDs: ["si_none"] }],
      ["msg/get_server_time", {}],
      ["third/set_app_badge", { userID: adminUserID, appUnreadCount: 0 }],
    ];
    for (const [route, body] of probes) await rest.call(route, body, { token });
    return token;
  } finally {
    await rest.close();
  }
}

const CANARY_SENDER = "cutover_canary_a";
const CANARY_RECEIVER = "cutover_canary_b";
const CANARY_PLATFORM = 7;

/** Instance 0's receiver keeps the one-gateway name; each further instance gets its own user. */
const receiverFor = (index: number) => (index === 0 ? CANARY_RECEIVER : `${CANARY_RECEIVER}_${index}`);

/**
 * OpenIM answering is not yet OpenIM delivering: msgtransfer and push join their Kafka
 * consumer groups a moment after they start, and a message produced before that is never
 * pushed (a fresh stack lost most of its first messages). So `up` is done only when a
 * canary message has gone sender → msg gateway → Kafka → msgtransfer → push → receiver.
 * With several gateways (`ws` lists each instance's address) there is a receiver on every
 * one and the sender on the first: push reaches a gateway only once it has found it in etcd
 * (server: internal/push/onlinepusher.go DefaultAllNode.GetConnsAndOnlinePush), so `up`
 * waits until a canary has arrived through each. Resolves with the number of sends it took.
 */
export async function openimDelivers(
  api: string,
  ws: string | readonly string[],
  secret: string,
  adminUserID: string,
  timeoutMs: number,
): Promise<number> {
  const instances = typeof ws === "string" ? [ws] : ws;
  const rest = createRestClient({ baseUrl: api, timeoutMs: 3000, connections: 2 });
  const clients: OpenImWsClient[] = [];
  try {
    const { token: admin } = await getAdminToken(rest, secret, adminUserID);
    const receivers = instances.map((_, i) => receiverFor(i));
    await registerUsers(
      rest,
      admin,
      [CANARY_SENDER, ...receivers].map((userID) => ({ userID })),
    ).catch((err: unknown) => {
      if (!(err instanceof OpenImError && err.errCode === 1102)) throw err; // 1102: registered already
    });
    const connect = async (userID: string, wsUrl: string) => {
      const { token } = await getUserToken(rest, admin, userID, CANARY_PLATFORM);
      const client = await OpenImWsClient.connect({
        wsUrl,
        userID,
        token,
        platformID: CANARY_PLATFORM,
        heartbeat: false,
        reconnect: false,
      });
      clients.push(client);
      return client;
    };
    const sender = await connect(CANARY_SENDER, instances[0] as string);
    const waiting = new Set(receivers);
    await Promise.all(
      receivers.map(async (userID, i) => {
        const receiver = await connect(userID, instances[i] as string);
        // Any canary arriving proves the path to this gateway; earlier ones may still trickle in.
        receiver.on("push", (msgs) => {
          if (msgs.length > 0) waiting.delete(userID);
        });
      }),
    );
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 1; Date.now() < deadline; attempt++) {
      for (const recvID of waiting) await sender.sendText({ recvID, text: `cutover canary ${attempt}` });
      const until = Date.now() + 1500;
      while (Date.now() < until && waiting.size > 0) await new Promise((r) => setTimeout(r, 25));
      if (waiting.size === 0) return attempt;
    }
    throw new Error(
      `no canary message was delivered within ${timeoutMs} ms${instances.length > 1 ? ` to ${[...waiting].join(", ")}` : ""}`,
    );
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await rest.close();
  }
}
