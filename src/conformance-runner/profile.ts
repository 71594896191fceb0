import { z } from "zod";

/**
 * How the target's OpenIM is configured where it may differ from OpenIM's defaults. The
 * suites read it and adapt; a case that cannot apply is skipped with the reason, never silently.
 */
export const targetProfileSchema = z
  .object({
    /** share.yml multiLogin.policy: 1 kicks the same platform, 0 kicks nobody below maxNumOneEnd. */
    multiLoginPolicy: z.number().int().min(0).max(5).default(1),
    /** The WebSocket read limit in bytes (hard-coded 51200 in v3.8.3). */
    maxMessageSize: z.number().int().positive().default(51_200),
    /** Whether the gateway's moderation webhooks are wired into OpenIM (webhooks.yml). */
    moderationWebhooks: z.boolean().default(true),
    /** The errCode a denied message carries (the gateway's moderation config). */
    moderationDenyErrCode: z.number().int().default(20001),
    /** Whether admin calls (OpenIM admin secret) are allowed against this target. */
    adminAccess: z.boolean().default(true),
    /** Whether the imToken cache in Redis may be inspected. */
    redisAccess: z.boolean().default(true),
    /** Whether the run dir (logs, gateway config) of a local stack can be read. */
    localFiles: z.boolean().default(true),
  })
  .strict();

export type TargetProfile = z.output<typeof targetProfileSchema>;

export function defaultProfile(): TargetProfile {
  return targetProfileSchema.parse({});
}
