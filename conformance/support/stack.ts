import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, inject, type TestContext } from "vitest";
import type { TargetProfile } from "../../src/conformance-runner/profile.js";
import type { StackEndpoints } from "../../src/stack/endpoints.js";
import { type StackFixtures, stackFixtures, type TestUser } from "./fixtures.js";
import { type RawSocket, rawSockets } from "./raw-socket.js";
import { closeRawConns } from "./raw-ws.js";
import { skipUnless } from "./skip.js";
import "./context.js";

/**
 * A suite's stack in one line (Complement's `Deploy(t, …)`):
 *
 *   const stack = useStack();
 *
 * registers the hooks every suite needs — fixtures before the first case, closing every client
 * and raw socket a case opened after it, the gateway client and Redis after the last — and
 * hands back what a case uses: fresh users, connections, the admin API, the target's profile
 * and skip guards. Accessors that talk to the stack work inside cases and hooks only.
 */
export interface Stack extends StackFixtures {
  /** How the target is configured where it may differ from OpenIM's defaults. */
  readonly profile: TargetProfile;
  /** The local stack's run directory ("" for a target cutover did not start). */
  readonly runDir: string;
  /** The target's Redis; only where it `offers("redisAccess")` (guard the case with `requires` first). */
  readonly redis: Redis;
  /** Whether the target offers `need`, for a check a case makes only where it can. */
  offers(need: Need): boolean;
  /** Skips the case, with the reason every report shows, unless the target offers `need`. */
  requires(ctx: TestContext, need: Need, why?: string): void;
  /** Skips the case unless the target's share.yml multiLogin.policy is one of `policies`. */
  requiresMultiLogin(ctx: TestContext, ...policies: number[]): void;
  /** A gateway admin route (`/api/admin/<route>`) called with the gateway admin's JWT. */
  admin<T = unknown>(method: "GET" | "POST", route: string, body?: unknown): Promise<T>;
  /** A bare socket to OpenIM's message gateway through nginx, every frame kept (support/raw-socket.ts). */
  raw(user: TestUser): Promise<RawSocket>;
}

/** What a case may need from a target beyond nginx, each with the reason a skip gives by default. */
export type Need = "adminAccess" | "gatewayAdmin" | "moderationWebhooks" | "redisAccess" | "localFiles";

interface Target {
  endpoints: StackEndpoints;
  profile: TargetProfile;
  runDir: string;
}

const NEEDS: Record<Need, { offered: (t: Target) => boolean; why: string }> = {
  adminAccess: {
    offered: (t) => t.profile.adminAccess,
    why: "admin calls with OpenIM's admin secret are not allowed (profile.adminAccess)",
  },
  gatewayAdmin: {
    offered: (t) => t.endpoints.gatewayAdmin !== undefined && t.profile.adminAccess,
    why: "the target offers no gateway admin account, or admin calls are not allowed (profile.adminAccess)",
  },
  moderationWebhooks: {
    offered: (t) => t.profile.moderationWebhooks,
    why: "the target's moderation webhooks are not wired into OpenIM (profile.moderationWebhooks)",
  },
  redisAccess: {
    offered: (t) => t.profile.redisAccess,
    why: "the target does not let cutover read its Redis",
  },
  localFiles: {
    offered: (t) => t.profile.localFiles && t.runDir !== "",
    why: "the gateway's JWT key lives in a local run dir this target does not have",
  },
};

export function useStack(): Stack {
  const target: Target = {
    endpoints: inject("endpoints"),
    profile: inject("profile"),
    runDir: inject("runDir"),
  };
  const { endpoints, profile } = target;
  const raws = rawSockets(endpoints.wsURL);
  let fixtures: StackFixtures | undefined;
  let redis: Redis | undefined;

  beforeAll(async () => {
    fixtures = await stackFixtures(endpoints);
  });
  afterEach(async () => {
    await Promise.all([fixtures?.cleanup(), closeRawConns(), raws.closeAll()]);
  });
  afterAll(async () => {
    redis?.disconnect();
    await fixtures?.gateway.close();
  });

  const ready = (): StackFixtures => {
    if (!fixtures) throw new Error("useStack(): the stack is reached only inside cases and hooks");
    return fixtures;
  };
  const offers = (need: Need) => NEEDS[need].offered(target);

  return {
    endpoints,
    profile,
    runDir: target.runDir,
    get rest() {
      return ready().rest;
    },
    get adminToken() {
      return ready().adminToken;
    },
    get gateway() {
      return ready().gateway;
    },
    get redis() {
      if (!offers("redisAccess")) throw new Error("the target does not let cutover read its Redis");
      redis ??= new Redis(endpoints.redis, { maxRetriesPerRequest: 1 });
      return redis;
    },
    user: (platformID) => ready().user(platformID),
    newUsers: (count, platformID) => ready().newUsers(count, platformID),
    gatewayUser: (platformID) => ready().gatewayUser(platformID),
    gatewayUsers: (count, platformID) => ready().gatewayUsers(count, platformID),
    adminJwt: () => ready().adminJwt(),
    connect: (user, opts) => ready().connect(user, opts),
    cleanup: () => ready().cleanup(),
    offers,
    requires(ctx, need, why = NEEDS[need].why) {
      skipUnless(ctx, offers(need), why);
    },
    requiresMultiLogin(ctx, ...policies) {
      skipUnless(
        ctx,
        policies.includes(profile.multiLoginPolicy),
        `the target's multiLoginPolicy is ${profile.multiLoginPolicy}; this case needs ${policies.join(" or ")}`,
      );
    },
    async admin<T>(method: "GET" | "POST", route: string, body?: unknown) {
      const jwt = await ready().adminJwt();
      // The admin routes answer JSON whose shape each case states; the gateway client cannot know it.
      return (await ready().gateway.admin(jwt, method, route, body)) as T;
    },
    raw: (user) => raws.open(user),
  };
}
