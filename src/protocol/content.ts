/**
 * Message content bodies. OpenIM carries content as UTF-8 JSON bytes; for text it is
 * `{"content":"<text>"}` (sdk: sdk_struct.TextElem). The official SDKs drop a text whose
 * content has another shape, so cutover's stamp travels inside the text itself.
 */

export const ContentType = {
  Text: 101,
  Picture: 102,
  Voice: 103,
  Video: 104,
  File: 105,
  AtText: 106,
  Custom: 110,
  Typing: 113,
  OANotification: 1400,
} as const;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

export function encodeTextContent(text: string): Uint8Array {
  return utf8Encoder.encode(JSON.stringify({ content: text }));
}

/** The text of a `{"content": "..."}` body, or undefined when the bytes are not one. */
export function decodeTextContent(content: Uint8Array): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8Decoder.decode(content));
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null || !("content" in parsed)) return undefined;
  const text = parsed.content;
  return typeof text === "string" ? text : undefined;
}

/** The text of a received text message; undefined for any other content type or a malformed body. */
export function decodeText(msg: { contentType: number; content: Uint8Array }): string | undefined {
  if (msg.contentType !== ContentType.Text) return undefined;
  return decodeTextContent(msg.content);
}
