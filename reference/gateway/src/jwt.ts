import { jwtVerify, SignJWT } from "jose";
import type { GatewayConfig } from "./config.js";

export type Role = "user" | "admin";

export interface SessionClaims {
  userID: string;
  platformID: number;
  role: Role;
  expiresAt: number;
  issuedAtMs: number;
}

/** Signs and verifies the gateway's own JWTs. The algorithm is pinned: `none` and every other alg are refused. */
/** The claims of a token whose header says `alg: none`, read without any check (the fault being injected). */
function unverifiedNone(jwt: string): Record<string, unknown> | undefined {
  const [header, payload] = jwt.split(".");
  try {
    const h = JSON.parse(Buffer.from(header ?? "", "base64url").toString("utf8")) as { alg?: string };
    if (h.alg !== "none") return undefined;
    return JSON.parse(Buffer.from(payload ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export function jwtCodec(config: GatewayConfig["jwt"], faults: { acceptAlgNone?: boolean } = {}) {
  const key = new TextEncoder().encode(config.secret);
  return {
    async sign(
      claims: Omit<SessionClaims, "expiresAt" | "issuedAtMs">,
    ): Promise<{ jwt: string; expiresAt: number }> {
      const expiresAt = Math.floor(Date.now() / 1000) + config.ttlSeconds;
      // iatms: issue time in ms, so a logout can revoke every token issued up to that instant.
      const jwt = await new SignJWT({ plat: claims.platformID, role: claims.role, iatms: Date.now() })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setSubject(claims.userID)
        .setIssuer(config.issuer)
        .setAudience(config.audience)
        .setIssuedAt()
        .setExpirationTime(expiresAt)
        .sign(key);
      return { jwt, expiresAt };
    },
    /** Throws on anything but a valid, unexpired HS256 token of this gateway. */
    async verify(jwt: string): Promise<SessionClaims> {
      const forged = faults.acceptAlgNone ? unverifiedNone(jwt) : undefined;
      const payload =
        forged ??
        (
          await jwtVerify(jwt, key, {
            algorithms: ["HS256"],
            issuer: config.issuer,
            audience: config.audience,
          })
        ).payload;
      const { sub, plat, role, exp, iat, iatms } = payload;
      if (
        typeof sub !== "string" ||
        typeof plat !== "number" ||
        (role !== "user" && role !== "admin") ||
        typeof exp !== "number"
      ) {
        throw new Error("token claims are incomplete");
      }
      const issuedAtMs = typeof iatms === "number" ? iatms : typeof iat === "number" ? iat * 1000 : 0;
      return { userID: sub, platformID: plat, role, expiresAt: exp, issuedAtMs };
    },
  };
}

export type JwtCodec = ReturnType<typeof jwtCodec>;
