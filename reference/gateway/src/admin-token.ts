import { getAdminToken, type RestClient } from "../../../src/protocol/index.js";

/**
 * OpenIM's admin token, fetched once and refreshed when 80% of its lifetime has passed,
 * so no request ever waits on an expired one. Concurrent callers share one fetch.
 */
export function adminTokenSource(rest: RestClient, secret: string, adminUserID: string) {
  let cached: { token: string; refreshAt: number } | undefined;
  let inflight: Promise<string> | undefined;
  const fetchToken = async (): Promise<string> => {
    const { token, expireTimeSeconds } = await getAdminToken(rest, secret, adminUserID);
    cached = { token, refreshAt: Date.now() + expireTimeSeconds * 800 };
    return token;
  };
  return {
    get(): Promise<string> {
      if (cached && Date.now() < cached.refreshAt) return Promise.resolve(cached.token);
      inflight ??= fetchToken().finally(() => {
        inflight = undefined;
      });
      return inflight;
    },
    invalidate(): void {
      cached = undefined;
    },
  };
}

export type AdminTokenSource = ReturnType<typeof adminTokenSource>;
