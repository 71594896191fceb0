import type { FastifyInstance } from "fastify";
import type { z } from "zod";
import { open } from "../../../src/protocol/gateway-auth.js";
import type { DhSessions } from "./dh-sessions.js";
import { HttpError, handshakeSchema, parse, registrationSchema, sealedSchema } from "./http-input.js";
import type { UserStore } from "./user-store.js";

export type OpenSealed = <T>(schema: z.ZodType<T>, body: z.infer<typeof sealedSchema>) => Promise<T>;

/**
 * The part of the DH login every service keeping it shares (the gateway, the legacy chat
 * service): the handshake and registration routes, and the opener of sealed credentials
 * the service's own login route uses.
 */
export function addHandshakeAndRegistration(
  app: FastifyInstance,
  sessions: DhSessions,
  users: UserStore,
): OpenSealed {
  const openSealed: OpenSealed = async (schema, body) => {
    const key = await sessions.take(body.sessionID);
    if (!key) throw new HttpError(401, "unauthorized", "unknown, expired or used handshake");
    let plain: unknown;
    try {
      plain = open(key, body.sessionID, body);
    } catch {
      throw new HttpError(401, "unauthorized", "credentials could not be opened with the handshake key");
    }
    return parse(schema, plain);
  };

  app.post("/api/auth/handshake", async (req) => {
    const { clientPublicKey } = parse(handshakeSchema, req.body);
    try {
      return await sessions.start(clientPublicKey);
    } catch (err) {
      throw new HttpError(400, "bad_request", `clientPublicKey: ${(err as Error).message}`);
    }
  });

  app.post("/api/auth/register", async (req, reply) => {
    const { userID, password, nickname } = await openSealed(
      registrationSchema,
      parse(sealedSchema, req.body),
    );
    if (!(await users.create(userID, password, nickname ?? userID)))
      throw new HttpError(409, "conflict", `${userID} is taken`);
    return reply.status(201).send({ userID });
  });

  return openSealed;
}
