import { SignJWT } from "jose";

/**
 * OpenIM's own token format, minted outside OpenIM for the handshake cases that need a
 * token OpenIM never issued (expired, not yet valid, no Redis record). OpenIM signs
 * HS256 with share.yml `secret` — the admin secret — over the claims
 * {UserID, PlatformID, exp, iat} (tools: tokenverify/jwt_token.go Claims/BuildClaims).
 * Only usable where the profile allows admin access (the secret is known).
 */
export interface ImTokenClaims {
  UserID: string;
  PlatformID: number;
  /** Unix seconds. */
  exp: number;
  iat?: number;
  nbf?: number;
}

export function signImToken(
  secret: string,
  claims: ImTokenClaims,
  alg: "HS256" | "HS384" | "HS512" = "HS256",
): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg, typ: "JWT" })
    .sign(new TextEncoder().encode(secret));
}
