import { request } from "undici";

/** POST to OpenIM's REST API during startup, before cutover's protocol client is needed. */
async function post(
  base: string,
  route: string,
  body: unknown,
  token?: string,
): Promise<{ errCode: number; errMsg?: string; data?: unknown }> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    operationID: `cutover-up-${Date.now()}`,
  };
  if (token) headers.token = token;
  const res = await request(`${base}/${route}`, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
    headersTimeout: 3000,
    bodyTimeout: 3000,
  });
  return (await res.body.json()) as { errCode: number; errMsg?: string; data?: unknown };
}

/**
 * OpenIM is ready when the admin token is issued and each RPC service behind the API
 * answers a harmless admin call; the services find each other through etcd in any order.
 */
export async function openimAnswers(
  base: string,
  secret: string,
  adminUserID: string,
): Promise<string | undefined> {
  const tokenResp = await post(base, "auth/get_admin_token", { secret, userID: adminUserID });
  if (tokenResp.errCode !== 0)
    throw new Error(`auth/get_admin_token: errCode ${tokenResp.errCode} ${tokenResp.errMsg ?? ""}`);
  const token = (tokenResp.data as { token?: string } | undefined)?.token;
  if (!token) throw new Error("auth/get_admin_token: no token in data");
  const probes: Array<[string, unknown]> = [
    ["user/get_users_info", { userIDs: [adminUserID] }],
    ["group/get_groups_info", { groupIDs: ["cutover_probe_none"] }],
    ["friend/get_friend_list", { userID: adminUserID, pagination: { pageNumber: 1, showNumber: 1 } }],
    ["conversation/get_conversations", { ownerUserID: adminUserID, conversationIDs: ["si_none"] }],
    ["msg/get_server_time", {}],
    ["third/set_app_badge", { userID: adminUserID, appUnreadCount: 0 }],
  ];
  for (const [route, body] of probes) {
    const resp = await post(base, route, body, token);
    if (resp.errCode !== 0) throw new Error(`${route}: errCode ${resp.errCode} ${resp.errMsg ?? ""}`);
  }
  return token;
}
