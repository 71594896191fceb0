import { request } from "undici";
import { gatewayClient } from "../drivers/gateway-client.js";
import {
  createRestClient,
  getAdminToken,
  getUserToken,
  newClientMsgID,
  OpenImError,
  OpenImWsClient,
  parseToken,
  registerUsers,
  uniqueUserID,
} from "../protocol/index.js";
import { errorMessage } from "../util/errors.js";
import { sleep } from "../util/time.js";
import type { StackEndpoints } from "./endpoints.js";
import { STATUS_PLATFORM } from "./health-check.js";

/**
 * Probes of how a target is wired, asked of the target itself rather than of cutover's config:
 * what `status` reports and what the conformance profile is derived from. Each answers
 * `unknown` (with why) where the target does not offer what the probe needs, never a guess.
 */

export type ProbeAnswer<T> = { known: true; value: T; detail: string } | { known: false; detail: string };

const known = <T>(value: T, detail: string): ProbeAnswer<T> => ({ known: true, value, detail });
const unknown = <T>(detail: string): ProbeAnswer<T> => ({ known: false, detail });

/** The reference gateway's event log of the webhooks OpenIM called (GET /api/admin/moderation). */
interface ModerationEvents {
  events: Array<{ command: string }>;
}
interface TrafficCounters {
  upgradeAttempts: number;
  msgGatewayRequests: number;
}

/** The gateway admin logged in through nginx, as an app would: its JWT and its own imToken. */
async function withGatewayAdmin<T>(
  endpoints: StackEndpoints,
  use: (admin: {
    userID: string;
    /** A socket as the admin, through nginx, as an app opens one. */
    connect: () => Promise<OpenImWsClient>;
    call: <R>(method: "GET" | "POST", route: string) => Promise<R>;
  }) => Promise<T>,
): Promise<T> {
  const account = endpoints.gatewayAdmin;
  if (!account) throw new Error("no gateway admin account");
  const client = gatewayClient(endpoints.nginx, { connections: 1 });
  try {
    const login = await client.login(account.userID, account.password, STATUS_PLATFORM);
    return await use({
      userID: account.userID,
      connect: () =>
        OpenImWsClient.connect({
          wsUrl: endpoints.wsURL,
          userID: account.userID,
          token: login.imToken,
          platformID: STATUS_PLATFORM,
          handshakeTimeoutMs: 3000,
          heartbeat: false,
          reconnect: false,
        }),
      call: async <R>(method: "GET" | "POST", route: string) =>
        (await client.admin(login.jwt, method, route)) as R,
    });
  } finally {
    await client.close();
  }
}

export interface WebhookWiring {
  beforeSend: boolean;
  afterSend: boolean;
}

/**
 * Whether OpenIM calls the gateway's send webhooks: the gateway admin sends itself one text
 * message over the WebSocket and the gateway's event log is read for that clientMsgID. The
 * before-send hook is synchronous, so it is there when the send is acked; the after-send hook is
 * asynchronous (server:internal/rpc/msg/callback.go webhookAfterSendSingleMsg), so it is waited
 * for a little. Needs the gateway admin and the reference gateway's /api/admin/moderation.
 */
export async function probeWebhooks(
  endpoints: StackEndpoints,
  waitMs = 3000,
): Promise<ProbeAnswer<WebhookWiring>> {
  if (!endpoints.gatewayAdmin)
    return unknown("the target offers no gateway admin account to read the hooks' log");
  try {
    return await withGatewayAdmin(endpoints, async (admin) => {
      const clientMsgID = newClientMsgID();
      const ws = await admin.connect();
      try {
        await ws
          .sendText({ recvID: admin.userID, text: "cutover wiring probe", clientMsgID })
          .catch((err: unknown) => {
            // 90004: OpenIM's hook client gave up on the gateway (server: pkg/callbackstruct, tools errs).
            throw new Error(`the probe message was refused: ${errorMessage(err)}`);
          });
      } finally {
        await ws.close();
      }
      const seen = async () => {
        const log = await admin.call<ModerationEvents>("GET", `moderation?clientMsgID=${clientMsgID}`);
        const commands = log.events.map((e) => e.command);
        return {
          beforeSend: commands.some((c) => c.startsWith("callbackBeforeSendSingleMsg")),
          afterSend: commands.some((c) => c.startsWith("callbackAfterSendSingleMsg")),
        };
      };
      let wiring = await seen();
      for (let waited = 0; !wiring.afterSend && waited < waitMs; waited += 100) {
        await sleep(100);
        wiring = await seen();
      }
      const name = (on: boolean) => (on ? "reached the gateway" : "not seen by the gateway");
      const hint =
        wiring.beforeSend && wiring.afterSend
          ? ""
          : " — enable beforeSend*/afterSend* in OpenIM's webhooks.yml, its url pointing at the gateway's webhook route";
      return known(
        wiring,
        `a probe message's before-send hook ${name(wiring.beforeSend)}, its after-send hook ${name(wiring.afterSend)}${hint}`,
      );
    });
  } catch (err) {
    return unknown(`the webhook probe could not run: ${errorMessage(err)}`);
  }
}

/**
 * Whether nginx sends the WebSocket straight to OpenIM: the gateway's traffic counters do not
 * move while an authenticated socket is opened and used through nginx.
 */
export async function probeWebSocketRoute(
  endpoints: StackEndpoints,
): Promise<ProbeAnswer<"direct" | "via-gateway">> {
  if (!endpoints.gatewayAdmin)
    return unknown("the target offers no gateway admin account to read the gateway's traffic counters");
  try {
    return await withGatewayAdmin(endpoints, async (admin) => {
      const before = await admin.call<TrafficCounters>("GET", "traffic");
      const ws = await admin.connect();
      try {
        await ws.getNewestSeq();
      } finally {
        await ws.close();
      }
      const after = await admin.call<TrafficCounters>("GET", "traffic");
      const moved =
        after.upgradeAttempts - before.upgradeAttempts + after.msgGatewayRequests - before.msgGatewayRequests;
      return moved === 0
        ? known(
            "direct",
            `an authenticated socket at ${endpoints.wsURL} reached OpenIM; the gateway saw none of it`,
          )
        : known(
            "via-gateway",
            `the gateway saw ${moved} WebSocket request(s) for one socket opened at ${endpoints.wsURL}`,
          );
    });
  } catch (err) {
    return unknown(`the WebSocket route probe could not run: ${errorMessage(err)}`);
  }
}

/** OpenIM's answer envelope, by its keys: nothing else answers `{errCode, errMsg, errDlt}`. */
function looksLikeOpenIm(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    return typeof parsed.errCode === "number" && "errMsg" in parsed && "errDlt" in parsed;
  } catch {
    return false;
  }
}

/**
 * Whether OpenIM's REST API answers at the edge apps reach. Only a wrong secret is ever sent:
 * the probe learns from the envelope's shape, never from a token.
 */
export async function probeRestExposure(endpoints: StackEndpoints): Promise<ProbeAnswer<string[]>> {
  const paths = ["/auth/get_admin_token", "/api/auth/get_admin_token", "/api/im/auth/get_admin_token"];
  const exposed: string[] = [];
  try {
    for (const p of paths) {
      const res = await request(`${endpoints.nginx}${p}`, {
        method: "POST",
        headers: { "content-type": "application/json", operationID: newClientMsgID() },
        body: JSON.stringify({ secret: "cutover-wiring-probe", userID: "cutover_probe" }),
        headersTimeout: 3000,
        bodyTimeout: 3000,
      });
      if (looksLikeOpenIm(await res.body.text())) exposed.push(p);
    }
  } catch (err) {
    return unknown(`the REST exposure probe could not run: ${errorMessage(err)}`);
  }
  return known(
    exposed,
    exposed.length === 0
      ? `none of ${paths.join(", ")} answers with OpenIM's envelope at ${endpoints.nginx}`
      : `OpenIM answers at ${exposed.map((p) => `${endpoints.nginx}${p}`).join(", ")}`,
  );
}

/** Whether `token` still parses, or OpenIM says it was kicked (1506). */
async function stillValid(rest: ReturnType<typeof createRestClient>, token: string): Promise<boolean> {
  try {
    await parseToken(rest, token);
    return true;
  } catch (err) {
    if (err instanceof OpenImError && err.errCode === 1506) return false;
    throw err;
  }
}

/**
 * share.yml's multiLogin.policy, from what minting tokens does (docs/openim-protocol.md "Multi-login
 * and kicking"): a second token on the same platform kicks the first under every policy but 0.
 * Policies 4 and 5 kick on the same platform too and are not told apart from 1 here: v3.8.3 marks
 * a token kicked from another platform under the new token's platform key
 * (server: pkg/common/storage/controller/auth.go CreateToken), so parse_token cannot see it.
 * Needs admin access; the probe user is fresh and used for nothing else.
 */
export async function probeMultiLoginPolicy(endpoints: StackEndpoints): Promise<ProbeAnswer<number>> {
  if (!endpoints.openimApi || !endpoints.adminSecret)
    return unknown("admin calls are not allowed against this target, so tokens cannot be minted to probe it");
  const rest = createRestClient({ baseUrl: endpoints.openimApi, connections: 1 });
  try {
    const admin = (await getAdminToken(rest, endpoints.adminSecret, endpoints.adminUserID)).token;
    const userID = uniqueUserID("cutover_probe");
    await registerUsers(rest, admin, [{ userID }]);
    const IOS = 1;
    const first = (await getUserToken(rest, admin, userID, IOS)).token;
    // A token's claims count whole seconds, so a second mint within the same second is the same
    // string and re-marks the "kicked" first token normal: mint again until it differs.
    for (let tries = 0; tries < 12; tries += 1) {
      if ((await getUserToken(rest, admin, userID, IOS)).token !== first) break;
      await sleep(250);
    }
    return (await stillValid(rest, first))
      ? known(0, "a second token on the same platform left the first valid: no kicking (policy 0)")
      : known(
          1,
          "a second token on the same platform kicked the first (policy 1; 4 and 5 would too and are not told apart)",
        );
  } catch (err) {
    return unknown(`the multi-login probe could not run: ${errorMessage(err)}`);
  } finally {
    await rest.close();
  }
}
