import {
  createRestClient,
  getAdminToken,
  getUserToken,
  OpenImWsClient,
  type OpenImWsConnectOptions,
  type ReceivedMsg,
  type RestClient,
  registerUsers,
  uniqueUserID,
} from "../../src/protocol/index.js";
import type { StackEndpoints } from "../../src/stack/endpoints.js";

export interface TestUser {
  userID: string;
  token: string;
  platformID: number;
}

/** What a test needs from a stack: an admin REST client and fresh, uniquely named users. */
export interface StackFixtures {
  endpoints: StackEndpoints;
  rest: RestClient;
  adminToken: string;
  newUsers(count: number, platformID?: number): Promise<TestUser[]>;
  connect(
    user: TestUser,
    opts?: Partial<OpenImWsConnectOptions> & { via?: "nginx" | "direct" },
  ): Promise<OpenImWsClient>;
}

export async function stackFixtures(endpoints: StackEndpoints): Promise<StackFixtures> {
  const rest = createRestClient({ baseUrl: endpoints.openimApi });
  const { token: adminToken } = await getAdminToken(rest, endpoints.adminSecret, endpoints.adminUserID);
  const clients: OpenImWsClient[] = [];
  return {
    endpoints,
    rest,
    adminToken,
    async newUsers(count, platformID = 3) {
      const ids = Array.from({ length: count }, () => uniqueUserID("t"));
      await registerUsers(
        rest,
        adminToken,
        ids.map((userID) => ({ userID })),
      );
      return Promise.all(
        ids.map(async (userID) => ({
          userID,
          platformID,
          token: (await getUserToken(rest, adminToken, userID, platformID)).token,
        })),
      );
    },
    async connect(user, opts = {}) {
      const { via = "nginx", ...rest } = opts;
      const client = await OpenImWsClient.connect({
        wsUrl: via === "nginx" ? endpoints.wsURL : endpoints.openimWs,
        userID: user.userID,
        token: user.token,
        platformID: user.platformID,
        heartbeat: false,
        reconnect: false,
        ...rest,
      });
      clients.push(client);
      return client;
    },
  };
}

/** Resolves with the first pushed message matching `match`, or rejects after `timeoutMs`. */
export function nextPush(
  client: OpenImWsClient,
  match: (m: ReceivedMsg) => boolean,
  timeoutMs = 10_000,
): Promise<ReceivedMsg> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off("push", onPush);
      reject(new Error(`no matching push for ${client.userID} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onPush = (messages: ReceivedMsg[]) => {
      const found = messages.find(match);
      if (!found) return;
      clearTimeout(timer);
      client.off("push", onPush);
      resolve(found);
    };
    client.on("push", onPush);
  });
}

/** Resolves with the close info once the server has closed `client`'s socket. */
export function closed(
  client: OpenImWsClient,
  timeoutMs = 10_000,
): Promise<{ code: number; wasKicked: boolean }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${client.userID}'s connection was not closed within ${timeoutMs} ms`)),
      timeoutMs,
    );
    client.once("close", (info) => {
      clearTimeout(timer);
      resolve(info);
    });
  });
}
