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
import { NativeSdkUser } from "./official-sdk/native-sdk-user.js";
import { SdkSession } from "./official-sdk/sdk-session.js";
import type { SdkUser } from "./official-sdk/sdk-user.js";
import type { WasmBrowser } from "./official-sdk/wasm-sdk-user.js";

export interface OfficialSdkDriverOptions {
  /** `native` (default): the Go core, one Node process per user. `wasm`: one Chromium context per user. */
  sdk?: "native" | "wasm";
  /** Default 7 (Linux desktop) for native, 5 (Web) for wasm. */
  platformID?: number;
  /** Refuse more users than this per driver (each is a process or a browser context). Default 50 / 10. */
  maxUsers?: number;
}

/**
 * Virtual users that are real OpenIM SDK instances (docs/openim-protocol.md §9), so the numbers
 * are the ones an app built on the SDK would see: `connect` is the SDK's login-to-ready
 * (OnConnectSuccess + OnSyncServerFinish), and a message is received when the SDK's
 * OnRecvNewMessages callback ran. Accounts and tokens come from the admin API and the SDK
 * talks to OpenIM directly, as openim-direct does — so the two drivers' numbers compare.
 * Meant for a few dozen users: each one is a process (or a browser context). `login` is
 * the token plus the SDK's process (or page) start; how many start at once is the load
 * engine's setup concurrency, as for every driver.
 */
export function officialSdkDriver(
  endpoints: StackEndpoints,
  opts: OfficialSdkDriverOptions = {},
): ChatDriver {
  const kind = opts.sdk ?? "native";
  const platformID = opts.platformID ?? (kind === "native" ? 7 : 5);
  const maxUsers = opts.maxUsers ?? (kind === "native" ? 50 : 10);
  const rest = createRestClient({ baseUrl: endpoints.openimApi });
  let admin: Promise<string> | undefined;
  const adminToken = () => {
    admin ??= getAdminToken(rest, endpoints.adminSecret, endpoints.adminUserID).then((t) => t.token);
    return admin;
  };
  let browser: Promise<WasmBrowser> | undefined;
  const live = new Set<SdkUser>();
  let created = 0;

  const start = async (userID: string): Promise<SdkUser> => {
    if (kind === "native") return NativeSdkUser.start(userID);
    browser ??= import("./official-sdk/wasm-sdk-user.js").then((m) => m.WasmBrowser.launch());
    return (await browser).newUser(userID);
  };

  return {
    name: "official-sdk",
    async createUsers(count, prefix = "vu") {
      if (created + count > maxUsers)
        throw new Error(
          `official-sdk: ${created + count} users asked for, at most ${maxUsers} per driver (each is a real SDK instance; raise maxUsers to override)`,
        );
      created += count;
      const users: DriverUser[] = Array.from({ length: count }, () => ({
        userID: uniqueUserID(prefix),
        password: "",
        platformID,
      }));
      await registerUsers(
        rest,
        await adminToken(),
        users.map((u) => ({ userID: u.userID })),
      );
      return users;
    },
    async login(user) {
      const { token } = await getUserToken(rest, await adminToken(), user.userID, user.platformID);
      const sdk = await start(user.userID);
      live.add(sdk);
      const config = {
        userID: user.userID,
        token,
        platformID: user.platformID,
        apiAddr: endpoints.openimApi,
        wsAddr: endpoints.openimWs,
      };
      const session = new SdkSession(sdk, config, {
        loginTimeoutMs: kind === "native" ? 20_000 : 60_000,
        onDisconnect: () => live.delete(sdk),
      });
      return session;
    },
    async createGroup(owner, members) {
      const group = await createGroup(rest, await adminToken(), {
        ownerUserID: owner.userID,
        memberUserIDs: members.map((m) => m.userID),
        groupName: `cutover ${owner.userID}`,
      });
      return group.groupID;
    },
    async close() {
      await Promise.all([...live].map((u) => u.close().catch(() => undefined)));
      live.clear();
      if (browser) await (await browser.catch(() => undefined))?.close();
      await rest.close();
    },
  };
}

/** For `--driver <path to this file>` and driver modules: the load engine's factory shape. */
export function createDriver(endpoints: StackEndpoints, options: Record<string, unknown> = {}): ChatDriver {
  return officialSdkDriver(endpoints, options as OfficialSdkDriverOptions);
}
