import type { HttpContext, HttpPlan, ScenarioOptions } from "../src/load/scenario-contract.js";

/**
 * OpenIM's admin `msg/send_msg` under a fixed request rate, driven by autocannon: the
 * server-side send path without any WebSocket client. A reply whose envelope errCode is
 * not 0 counts as an error by its code.
 *
 *   cutover load rest-send --rate 200 --duration 20s
 */
export const options: ScenarioOptions = {
  description: "OpenIM admin msg/send_msg at a fixed rate (autocannon)",
  model: { kind: "constant-arrival-rate", rate: 100, duration: "20s" },
  users: 2,
  topology: { kind: "solo" },
  thresholds: { "http.p99": "< 500ms", http_errors: "== 0" },
};

export async function http(ctx: HttpContext): Promise<HttpPlan> {
  const [from, to] = await ctx.newUsers(2);
  return {
    url: `${ctx.endpoints.openimApi}/msg/send_msg`,
    headers: { token: await ctx.adminToken(), operationID: "cutover-rest-send" },
    body: JSON.stringify({
      sendID: from,
      recvID: to,
      groupID: "",
      senderPlatformID: 3,
      senderNickname: "",
      senderFaceURL: "",
      content: { content: "rest-send [<id>]" },
      contentType: 101,
      sessionType: 1,
      isOnlineOnly: false,
      notOfflinePush: true,
      ex: "",
    }),
    check: "openim-envelope",
    connections: 10,
  };
}
