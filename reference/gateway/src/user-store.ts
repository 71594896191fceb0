import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import type { Redis } from "ioredis";
import type { Role } from "./jwt.js";

/**
 * Accounts live in Redis: the gateway already depends on it for the imToken cache and the
 * handshake sessions, so one store serves all three and any number of gateway replicas.
 * Passwords are scrypt hashes (N=16384, r=8, p=1) with a per-user salt.
 */

const key = (userID: string) => `gw:user:${userID}`;

function hash(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, 32, { N: 16384, r: 8, p: 1 }, (err, derived) =>
      err ? reject(err) : resolve(derived),
    ),
  );
}

export interface Account {
  userID: string;
  role: Role;
  banned: boolean;
  nickname: string;
}

export function userStore(redis: Redis) {
  return {
    /** Creates the account; false when the userID is taken. */
    async create(userID: string, password: string, nickname: string, role: Role = "user"): Promise<boolean> {
      const salt = randomBytes(16);
      const digest = await hash(password, salt);
      const created = await redis.hsetnx(
        key(userID),
        "hash",
        `${salt.toString("base64")}:${digest.toString("base64")}`,
      );
      if (created === 0) return false;
      await redis.hset(key(userID), { role, nickname, banned: "0" });
      return true;
    },
    /** Sets (or resets) an account's password and role, for the configured admins. */
    async upsert(userID: string, password: string, role: Role): Promise<void> {
      const salt = randomBytes(16);
      const digest = await hash(password, salt);
      await redis.hset(key(userID), {
        hash: `${salt.toString("base64")}:${digest.toString("base64")}`,
        role,
        nickname: userID,
        banned: "0",
      });
    },
    /** The account when the password matches, else undefined; the same work is done for unknown users. */
    async verify(userID: string, password: string): Promise<Account | undefined> {
      const record = await redis.hgetall(key(userID));
      const [saltB64, digestB64] = (record.hash ?? `${randomBytes(16).toString("base64")}:`).split(":");
      const expected = Buffer.from(digestB64 ?? "", "base64");
      const actual = await hash(password, Buffer.from(saltB64 ?? "", "base64"));
      if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
      return {
        userID,
        role: record.role === "admin" ? "admin" : "user",
        banned: record.banned === "1",
        nickname: record.nickname ?? userID,
      };
    },
    async get(userID: string): Promise<Account | undefined> {
      const record = await redis.hgetall(key(userID));
      if (!record.hash) return undefined;
      return {
        userID,
        role: record.role === "admin" ? "admin" : "user",
        banned: record.banned === "1",
        nickname: record.nickname ?? userID,
      };
    },
    async setBanned(userID: string, banned: boolean): Promise<boolean> {
      if (!(await redis.exists(key(userID)))) return false;
      await redis.hset(key(userID), "banned", banned ? "1" : "0");
      return true;
    },
    async isBanned(userID: string): Promise<boolean> {
      return (await redis.hget(key(userID), "banned")) === "1";
    },
  };
}

export type UserStore = ReturnType<typeof userStore>;
