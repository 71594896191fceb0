import { z } from "zod";

/**
 * What the login endpoints accept, and how a bad request is answered: shared by the reference
 * gateway and the legacy chat service, which keep the same DH + JWT login.
 */

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Validates a request part; the 400 names the first bad field. */
export function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new HttpError(
      400,
      "bad_request",
      `${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"}`,
    );
  }
  return result.data;
}

export const userIDSchema = z.string().regex(/^[A-Za-z0-9_]{1,64}$/, "letters, digits and underscore only");
export const handshakeSchema = z.object({ clientPublicKey: z.string().min(1) });
export const sealedSchema = z.object({
  sessionID: z.string().min(1),
  nonce: z.string().min(1),
  sealed: z.string().min(1),
});
export const loginSchema = sealedSchema.extend({ platformID: z.number().int().min(1).max(9) });
export const credentialsSchema = z.object({ userID: userIDSchema, password: z.string().min(1).max(256) });
export const registrationSchema = credentialsSchema.extend({
  password: z.string().min(8).max(256),
  nickname: z.string().max(64).optional(),
});
