import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from "node:crypto";

/**
 * The gateway's login protocol, kept from the legacy stack: an X25519 Diffie-Hellman
 * exchange derives a per-handshake session key (HKDF-SHA256), and the credentials travel
 * sealed with AES-256-GCM under that key, bound to the handshake id as associated data.
 * Both the reference gateway and cutover's clients use this module, so they cannot drift.
 *
 *   POST /api/auth/handshake {clientPublicKey}                → {sessionID, serverPublicKey, salt, expiresIn}
 *   POST /api/auth/login     {sessionID, nonce, sealed, platformID} → {jwt, imToken, wsURL, userID, expiresAt}
 */

export const HKDF_INFO = "cutover-gateway-login/v1";
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export interface KeyPair {
  privateKey: KeyObject;
  /** Raw 32-byte X25519 public key, base64url. */
  publicKey: string;
}

export function newKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("x25519");
  const jwk = publicKey.export({ format: "jwk" });
  if (!jwk.x) throw new Error("X25519 public key has no x");
  return { privateKey, publicKey: jwk.x };
}

/** Derives the 32-byte session key both sides hold after the exchange. Throws on a malformed peer key. */
export function deriveSessionKey(own: KeyObject, peerPublicKey: string, salt: string): Buffer {
  if (!/^[A-Za-z0-9_-]{43}$/.test(peerPublicKey)) throw new Error("public key must be 32 bytes, base64url");
  const peer = createPublicKey({ key: { kty: "OKP", crv: "X25519", x: peerPublicKey }, format: "jwk" });
  const shared = diffieHellman({ privateKey: own, publicKey: peer });
  return Buffer.from(hkdfSync("sha256", shared, Buffer.from(salt, "base64url"), HKDF_INFO, 32));
}

export interface Sealed {
  nonce: string;
  /** ciphertext followed by the 16-byte GCM tag, base64url. */
  sealed: string;
}

export function seal(key: Buffer, sessionID: string, payload: unknown): Sealed {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(Buffer.from(sessionID));
  const body = Buffer.concat([
    cipher.update(JSON.stringify(payload), "utf8"),
    cipher.final(),
    cipher.getAuthTag(),
  ]);
  return { nonce: nonce.toString("base64url"), sealed: body.toString("base64url") };
}

/** Opens a sealed payload; throws when the key, handshake id or bytes do not match (GCM authentication). */
export function open(key: Buffer, sessionID: string, sealed: Sealed): unknown {
  const nonce = Buffer.from(sealed.nonce, "base64url");
  const body = Buffer.from(sealed.sealed, "base64url");
  if (nonce.length !== NONCE_BYTES || body.length <= TAG_BYTES) throw new Error("malformed sealed payload");
  const decipher = createDecipheriv("aes-256-gcm", key, nonce);
  decipher.setAAD(Buffer.from(sessionID));
  decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
  const plain = Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]);
  return JSON.parse(plain.toString("utf8"));
}

export function newSalt(): string {
  return randomBytes(16).toString("base64url");
}
