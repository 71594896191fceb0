import type { Redis } from "ioredis";
import {
  forceLogout,
  getUserToken,
  OpenImError,
  type RestClient,
  registerUsers,
} from "../../../src/protocol/index.js";
import type { AdminTokenSource } from "./admin-token.js";
import type { GatewayMetrics } from "./gateway-metrics.js";
import { type ImTokenCache, imTokenCache } from "./imtoken-cache.js";

/** Every OpenIM platform a user can hold a token for (10 is the admin platform). */
export const USER_PLATFORMS = [1, 2, 3, 4, 5, 6, 7, 8, 9];

const registeredKey = (userID: string) => `gw:openim-registered:${userID}`;

/**
 * Where the gateway meets OpenIM with the admin token: registering users the first time
 * they log in, minting imTokens through the cache, and logging users out everywhere.
 */
export function openimBridge(
  rest: RestClient,
  admin: AdminTokenSource,
  redis: Redis,
  metrics: Pick<GatewayMetrics, "imTokenCache" | "imTokenMints">,
) {
  async function ensureRegistered(userID: string, nickname: string): Promise<void> {
    if (await redis.exists(registeredKey(userID))) return;
    try {
      await registerUsers(rest, await admin.get(), [{ userID, nickname }]);
    } catch (err) {
      if (!(err instanceof OpenImError && err.errCode === 1102)) throw err; // 1102: registered already
    }
    await redis.set(registeredKey(userID), "1");
  }

  const tokens: ImTokenCache = imTokenCache(
    redis,
    async (userID, platformID) => getUserToken(rest, await admin.get(), userID, platformID),
    metrics,
  );

  return {
    ensureRegistered,
    tokens,
    /** OpenIM's force_logout on each platform (drops live sockets, marks tokens kicked), then forgets cached tokens. */
    async logoutEverywhere(userID: string, platforms: number[] = USER_PLATFORMS): Promise<void> {
      const token = await admin.get();
      for (const platformID of platforms) {
        await tokens.invalidate(userID, platformID);
        await forceLogout(rest, token, userID, platformID);
      }
    },
  };
}

export type OpenImBridge = ReturnType<typeof openimBridge>;
