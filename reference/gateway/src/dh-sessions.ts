import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { deriveSessionKey, newKeyPair, newSalt } from "../../../src/protocol/gateway-auth.js";

/**
 * Handshakes waiting for their login: the derived session key, kept in Redis for a short
 * TTL (so any replica can finish the login) and taken with GETDEL, so each is used once —
 * a captured login request cannot be replayed.
 */
const key = (sessionID: string) => `gw:hs:${sessionID}`;

export function dhSessions(redis: Redis, ttlSeconds: number) {
  return {
    async start(
      clientPublicKey: string,
    ): Promise<{ sessionID: string; serverPublicKey: string; salt: string; expiresIn: number }> {
      const own = newKeyPair();
      const salt = newSalt();
      const sessionKey = deriveSessionKey(own.privateKey, clientPublicKey, salt);
      const sessionID = randomBytes(16).toString("base64url");
      await redis.set(key(sessionID), sessionKey.toString("base64"), "EX", ttlSeconds);
      return { sessionID, serverPublicKey: own.publicKey, salt, expiresIn: ttlSeconds };
    },
    /** The session key, once; undefined when unknown, expired or already used. */
    async take(sessionID: string): Promise<Buffer | undefined> {
      const value = await redis.getdel(key(sessionID));
      return value ? Buffer.from(value, "base64") : undefined;
    },
  };
}

export type DhSessions = ReturnType<typeof dhSessions>;
