import type { HttpContext, HttpPlan, ScenarioOptions } from "../src/load/scenario-contract.js";

/**
 * The gateway's REST proxy under a fixed request rate, driven by autocannon: nginx →
 * gateway (JWT → cached imToken) → OpenIM `user/get_users_info` → back. What the proxy
 * hop costs on top of OpenIM.
 *
 *   cutover load rest-proxy --rate 100 --duration 20s
 */
export const options: ScenarioOptions = {
  description: "gateway REST proxy (JWT → imToken → OpenIM user/get_users_info) at a fixed rate (autocannon)",
  model: { kind: "constant-arrival-rate", rate: 100, duration: "20s" },
  users: 1,
  topology: { kind: "solo" },
  thresholds: { "http.p99": "< 500ms", http_errors: "== 0" },
};

export async function http(ctx: HttpContext): Promise<HttpPlan> {
  const { userID, jwt } = await ctx.gatewayLogin();
  return {
    url: `${ctx.endpoints.nginx}/api/im/user/get_users_info`,
    headers: { authorization: `Bearer ${jwt}` },
    body: JSON.stringify({ userIDs: [userID] }),
    check: "openim-envelope",
    connections: 10,
  };
}
