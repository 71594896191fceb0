import { z } from "zod";

/**
 * `{errCode, errMsg, errDlt, data?}` — tools: apiresp/resp.go ApiResponse. The REST API
 * answers with it, and so does the ws gateway when it refuses a handshake (as an HTTP
 * body, or as a text frame with isMsgResp=true).
 */
export const apiEnvelopeSchema = z.object({
  errCode: z.number().int(),
  errMsg: z.string(),
  // Absent in some gateway paths; treated as empty rather than as a broken envelope.
  errDlt: z.string().optional().default(""),
  data: z.unknown().optional(),
});

export type ApiEnvelope = z.infer<typeof apiEnvelopeSchema>;

export type EnvelopeParse =
  | { ok: true; envelope: ApiEnvelope }
  | { ok: false; kind: "not-json" | "bad-envelope"; detail: string };

export function parseApiEnvelope(text: string): EnvelopeParse {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, kind: "not-json", detail: `body is not JSON: ${snippet(text)}` };
  }
  const parsed = apiEnvelopeSchema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, kind: "bad-envelope", detail: `body is not an OpenIM envelope: ${snippet(text)}` };
  }
  return { ok: true, envelope: parsed.data };
}

/** A short, single-line excerpt of a body for error messages. */
export function snippet(text: string, max = 200): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  if (oneLine === "") return "(empty)";
  return oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
}
