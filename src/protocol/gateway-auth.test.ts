import { describe, expect, test } from "vitest";
import { deriveSessionKey, newKeyPair, newSalt, open, seal } from "./gateway-auth.js";

describe("gateway login crypto (X25519 + HKDF-SHA256 + AES-256-GCM)", () => {
  const client = newKeyPair();
  const server = newKeyPair();
  const salt = newSalt();
  const clientKey = deriveSessionKey(client.privateKey, server.publicKey, salt);
  const serverKey = deriveSessionKey(server.privateKey, client.publicKey, salt);

  test("both sides derive the same session key and credentials round-trip", () => {
    expect(clientKey.equals(serverKey)).toBe(true);
    const sealed = seal(clientKey, "hs1", { userID: "alice", password: "pw" });
    expect(sealed.sealed).not.toContain("alice");
    expect(open(serverKey, "hs1", sealed)).toEqual({ userID: "alice", password: "pw" });
  });

  test("a payload sealed for one handshake cannot be replayed into another", () => {
    const sealed = seal(clientKey, "hs1", { userID: "alice" });
    expect(() => open(serverKey, "hs2", sealed)).toThrow();
  });

  test("a tampered payload or a different key is refused", () => {
    const sealed = seal(clientKey, "hs1", { userID: "alice" });
    const bytes = Buffer.from(sealed.sealed, "base64url");
    bytes[0] = (bytes[0] ?? 0) ^ 1;
    expect(() => open(serverKey, "hs1", { ...sealed, sealed: bytes.toString("base64url") })).toThrow();
    const other = deriveSessionKey(newKeyPair().privateKey, server.publicKey, salt);
    expect(() => open(other, "hs1", sealed)).toThrow();
  });

  test("a malformed peer public key is refused", () => {
    expect(() => deriveSessionKey(server.privateKey, "short", salt)).toThrow(/32 bytes/);
  });
});
