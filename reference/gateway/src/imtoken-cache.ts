import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import type { GatewayMetrics } from "./gateway-metrics.js";

/**
 * The single source of a user's imToken per platform. Under OpenIM's default multi-login
 * policy, minting a second token for the same user and platform kicks the first (1506),
 * so every login of that user+platform must reuse the cached one while it is valid:
 * concurrent logins in this process share one mint, and across gateway replicas a Redis
 * lock lets exactly one of them mint while the others wait for its result.
 *
 * Key `imtoken:<userID>:<platformID>`, value `{token, expiresAt}`, TTL = the token's lifetime.
 */

export interface CachedToken {
  token: string;
  /** Unix ms. */
  expiresAt: number;
}

export type Mint = (
  userID: string,
  platformID: number,
) => Promise<{ token: string; expireTimeSeconds: number }>;

export const imTokenKey = (userID: string, platformID: number) => `imtoken:${userID}:${platformID}`;
const lockKey = (userID: string, platformID: number) => `imtoken-lock:${userID}:${platformID}`;

const LOCK_MS = 10_000;
const WAIT_STEP_MS = 25;

// Deletes the lock only if it is still ours, so a slow minter never frees another's lock.
const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

export function imTokenCache(
  redis: Redis,
  mint: Mint,
  metrics: Pick<GatewayMetrics, "imTokenCache" | "imTokenMints">,
) {
  const inflight = new Map<string, Promise<CachedToken>>();

  async function read(userID: string, platformID: number): Promise<CachedToken | undefined> {
    const raw = await redis.get(imTokenKey(userID, platformID));
    if (!raw) return undefined;
    const value = JSON.parse(raw) as CachedToken;
    return value.expiresAt > Date.now() ? value : undefined;
  }

  async function mintUnderLock(userID: string, platformID: number): Promise<CachedToken> {
    const deadline = Date.now() + LOCK_MS * 2;
    const owner = randomBytes(8).toString("hex");
    while (Date.now() < deadline) {
      const got = await redis.set(lockKey(userID, platformID), owner, "PX", LOCK_MS, "NX");
      if (got === "OK") {
        try {
          const again = await read(userID, platformID);
          if (again) return again;
          // The one place this process asks OpenIM for a token: each mint is a get_user_token call.
          const { token, expireTimeSeconds } = await mint(userID, platformID).catch((err: unknown) => {
            metrics.imTokenMints.inc({ result: "error" });
            throw err;
          });
          metrics.imTokenMints.inc({ result: "ok" });
          const value: CachedToken = { token, expiresAt: Date.now() + expireTimeSeconds * 1000 };
          await redis.set(imTokenKey(userID, platformID), JSON.stringify(value), "EX", expireTimeSeconds);
          return value;
        } finally {
          await redis.eval(RELEASE, 1, lockKey(userID, platformID), owner);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
      const minted = await read(userID, platformID);
      if (minted) return minted;
    }
    throw new Error(`imToken for ${userID}/${platformID}: another replica held the mint lock too long`);
  }

  return {
    /** The cached imToken, minting (once, across replicas) on a miss. */
    async get(userID: string, platformID: number): Promise<CachedToken> {
      const cached = await read(userID, platformID);
      // A lookup that found a valid token is a hit; every other one is a miss, whether it mints,
      // joins this process's mint in flight or finds another replica's token after the lock.
      metrics.imTokenCache.inc({ result: cached ? "hit" : "miss" });
      if (cached) return cached;
      const k = imTokenKey(userID, platformID);
      let pending = inflight.get(k);
      if (!pending) {
        pending = mintUnderLock(userID, platformID).finally(() => inflight.delete(k));
        inflight.set(k, pending);
      }
      return pending;
    },
    /** Forgets the user's tokens: one platform, or every platform when omitted. */
    async invalidate(userID: string, platformID?: number): Promise<number> {
      if (platformID !== undefined) return redis.del(imTokenKey(userID, platformID));
      const keys = Array.from({ length: 10 }, (_, i) => imTokenKey(userID, i + 1));
      return redis.del(...keys);
    },
  };
}

export type ImTokenCache = ReturnType<typeof imTokenCache>;
