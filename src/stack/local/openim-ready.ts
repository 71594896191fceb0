import { createRestClient, getAdminToken } from "../../protocol/index.js";

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
