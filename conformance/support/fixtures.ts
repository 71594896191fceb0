import { randomBytes } from "node:crypto";
import { type GatewayClient, gatewayClient, type LoginResult } from "../../src/drivers/gateway-client.js";
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
import { asTuple, type Tuple } from "./lists.js";

/**
 * What a suite needs from a deployment (Complement's idea): clients for fresh, uniquely
 * named users. A case never reaches into a process; it makes its own users and groups.
 */

export interface TestUser {
  userID: string;
  token: string;
  platformID: number;
}

/** A user who logged in through the gateway as an app does. */
export interface GatewayUser {
  userID: string;
  password: string;
  login: LoginResult;
}

export interface StackFixtures {
  endpoints: StackEndpoints;
  /** OpenIM's REST API with the admin token (admin calls only; not how apps reach OpenIM). */
  rest: RestClient;
  adminToken: string;
  /** The gateway through nginx (/api/), as apps reach it. */
  gateway: GatewayClient;
  /** A fresh user registered and tokened with the admin API (platform 3, Windows, unless told). */
  user(platformID?: number): Promise<TestUser>;
  /** `count` fresh users, as a tuple: `const [alice, bob] = await stack.newUsers(2)`. */
  newUsers<N extends number>(count: N, platformID?: number): Promise<Tuple<TestUser, N>>;
  /** A fresh account registered and logged in through the gateway (DH + JWT → imToken). */
  gatewayUser(platformID?: number): Promise<GatewayUser>;
  /** `count` fresh gateway accounts, as a tuple. */
  gatewayUsers<N extends number>(count: N, platformID?: number): Promise<Tuple<GatewayUser, N>>;
  /** The gateway admin's JWT. */
  adminJwt(): Promise<string>;
  connect(
    user: TestUser,
    opts?: Partial<OpenImWsConnectOptions> & { via?: "nginx" | "direct" },
  ): Promise<OpenImWsClient>;
  /** Closes every client a case opened. */
  cleanup(): Promise<void>;
}

export async function stackFixtures(endpoints: StackEndpoints): Promise<StackFixtures> {
  const rest = createRestClient({ baseUrl: endpoints.openimApi });
  const gateway = gatewayClient(endpoints.nginx);
  const { token: adminToken } = await getAdminToken(rest, endpoints.adminSecret, endpoints.adminUserID);
  const clients: OpenImWsClient[] = [];
  let adminLogin: Promise<LoginResult> | undefined;
  const newUsers = async <N extends number>(count: N, platformID = 3) => {
    const ids = Array.from({ length: count }, () => uniqueUserID("t"));
    await registerUsers(
      rest,
      adminToken,
      ids.map((userID) => ({ userID })),
    );
    const users = await Promise.all(
      ids.map(async (userID) => ({
        userID,
        platformID,
        token: (await getUserToken(rest, adminToken, userID, platformID)).token,
      })),
    );
    return asTuple(users, count);
  };
  const gatewayUsers = async <N extends number>(count: N, platformID = 3) => {
    const users = await Promise.all(
      Array.from({ length: count }, async () => {
        const userID = uniqueUserID("g");
        const password = randomBytes(12).toString("base64url");
        await gateway.register(userID, password);
        return { userID, password, login: await gateway.login(userID, password, platformID) };
      }),
    );
    return asTuple(users, count);
  };
  return {
    endpoints,
    rest,
    adminToken,
    gateway,
    newUsers,
    async user(platformID) {
      const [one] = await newUsers(1, platformID);
      return one;
    },
    gatewayUsers,
    async gatewayUser(platformID) {
      const [one] = await gatewayUsers(1, platformID);
      return one;
    },
    adminJwt() {
      const admin = endpoints.gatewayAdmin;
      if (!admin) return Promise.reject(new Error("the target offers no gateway admin account"));
      adminLogin ??= gateway.login(admin.userID, admin.password, 3);
      return adminLogin.then((l) => l.jwt);
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
    async cleanup() {
      await Promise.all(clients.splice(0).map((c) => c.close()));
    },
  };
}

/** The gateway user as a TestUser, for connecting with the imToken the gateway handed out. */
export const asTestUser = (u: GatewayUser): TestUser => ({
  userID: u.userID,
  token: u.login.imToken,
  platformID: u.login.platformID,
});

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

/** Collects every push a client receives, for cases that count copies or check what never arrived. */
export function inbox(client: OpenImWsClient): ReceivedMsg[] {
  const got: ReceivedMsg[] = [];
  client.on("push", (messages) => got.push(...messages));
  return got;
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

/** Polls `probe` until it returns true (bounded), for effects that land asynchronously (seq assignment, hooks). */
export async function eventually(
  probe: () => Promise<boolean> | boolean,
  timeoutMs = 5000,
  stepMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return probe();
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
