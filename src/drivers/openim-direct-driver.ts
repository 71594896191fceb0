import {
  createGroup,
  createRestClient,
  getAdminToken,
  getUserToken,
  registerUsers,
  uniqueUserID,
} from "../protocol/index.js";
import type { StackEndpoints } from "../stack/endpoints.js";
import type { ChatDriver, DriverUser } from "./driver.js";
import { OpenImSession } from "./openim-session.js";

/** OpenIM's own register/token batch limit per call (proto: constant/limit.go ParamMaxLength). */
const REGISTER_BATCH = 1000;

/**
 * OpenIM alone: accounts and tokens straight from the admin API, the WebSocket straight to
 * the message gateways. No gateway, no nginx — for telling OpenIM's numbers from the rest.
 */
export function openimDirectDriver(
  endpoints: StackEndpoints,
  opts: { platformID?: number } = {},
): ChatDriver {
  const rest = createRestClient({ baseUrl: endpoints.openimApi });
  const platformID = opts.platformID ?? 3;
  // Every message-gateway instance in turn, as a load balancer in front of them would: one
  // instance alone holds only so many sockets, and a pair's two users often land on two.
  const gateways = endpoints.openimWsInstances?.length ? endpoints.openimWsInstances : [endpoints.openimWs];
  let nextGateway = 0;
  let admin: Promise<string> | undefined;
  const adminToken = () => {
    admin ??= getAdminToken(rest, endpoints.adminSecret, endpoints.adminUserID).then((t) => t.token);
    return admin;
  };
  return {
    name: "openim-direct",
    async createUsers(count, prefix = "vu") {
      const users: DriverUser[] = Array.from({ length: count }, () => ({
        userID: uniqueUserID(prefix),
        password: "",
        platformID,
      }));
      for (let i = 0; i < users.length; i += REGISTER_BATCH) {
        await registerUsers(
          rest,
          await adminToken(),
          users.slice(i, i + REGISTER_BATCH).map((u) => ({ userID: u.userID })),
        );
      }
      return users;
    },
    async login(user) {
      const { token } = await getUserToken(rest, await adminToken(), user.userID, user.platformID);
      const ws = gateways[nextGateway++ % gateways.length] as string;
      return new OpenImSession(user.userID, user.platformID, token, ws);
    },
    async createGroup(owner, members) {
      const group = await createGroup(rest, await adminToken(), {
        ownerUserID: owner.userID,
        memberUserIDs: members.map((m) => m.userID),
        groupName: `cutover ${owner.userID}`,
      });
      return group.groupID;
    },
    close: () => rest.close(),
  };
}
