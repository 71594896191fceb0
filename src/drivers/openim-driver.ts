import type { StackEndpoints } from "../stack/endpoints.js";
import type { ChatDriver } from "./driver.js";
import { registerFreshUsers } from "./fresh-users.js";
import { type GatewayClient, gatewayClient, type LoginResult } from "./gateway-client.js";
import { OpenImSession } from "./openim-session.js";

/**
 * The path an app takes: register and log in through the gateway (DH + sealed credentials
 * → JWT + imToken), then connect to the `wsURL` it returns — nginx straight to OpenIM.
 */
export function openimDriver(
  endpoints: StackEndpoints,
  opts: { platformID?: number } = {},
): ChatDriver & { gateway: GatewayClient } {
  const base = endpoints.nginx;
  const gateway = gatewayClient(`${base}`);
  const platformID = opts.platformID ?? 3;
  let adminLogin: Promise<LoginResult> | undefined;
  const adminJwt = async (): Promise<string> => {
    const admin = endpoints.gatewayAdmin;
    if (!admin) throw new Error("this stack offers no gateway admin account (needed to create groups)");
    adminLogin ??= gateway.login(admin.userID, admin.password, 3);
    return (await adminLogin).jwt;
  };
  return {
    name: "openim",
    gateway,
    createUsers: (count, prefix = "vu") =>
      registerFreshUsers((id, pw) => gateway.register(id, pw), count, prefix, platformID),
    async login(user) {
      const result = await gateway.login(user.userID, user.password, user.platformID);
      return new OpenImSession(result.userID, result.platformID, result.imToken, result.wsURL);
    },
    async createGroup(owner, members) {
      const answer = (await gateway.admin(await adminJwt(), "POST", "groups", {
        ownerUserID: owner.userID,
        memberUserIDs: members.map((m) => m.userID),
        groupName: `cutover ${owner.userID}`,
      })) as { errCode: number; errMsg: string; data?: { groupInfo?: { groupID?: string } } };
      const groupID = answer.data?.groupInfo?.groupID;
      if (answer.errCode !== 0 || !groupID)
        throw new Error(`create group: errCode ${answer.errCode} ${answer.errMsg}`);
      return groupID;
    },
    close: () => gateway.close(),
  };
}
