/**
 * Removes credentials from text a report will show: JWTs (OpenIM tokens and the gateway's),
 * `token=` query values, bearer headers, credentials in JSON (any key ending in token, secret or
 * password) and in protobuf text (`secret:"…"`, as OpenIM logs requests, possibly escaped inside
 * JSON). Reports and logs are shared; tokens and secrets must not be.
 */
const PROTO_TEXT_CREDENTIAL = /\b((?:secret|password|token)\s*:\s*\\?")(?:[^"\\]|\\[^"])*(\\?")/gi;
const JSON_CREDENTIAL = /("[\w-]*(?:token|secret|password)"\s*:\s*")(?:[^"\\]|\\.)*"/gi;

export function redact(text: string): string {
  return text
    .replace(/eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, "<jwt>")
    .replace(/([?&]token=)[^&\s"']+/g, "$1<redacted>")
    .replace(/(Bearer\s+)[A-Za-z0-9._-]+/gi, "$1<redacted>")
    .replace(/("(?:password|adminSecret|secret)"\s*:\s*")[^"]*"/g, '$1<redacted>"')
    .replace(PROTO_TEXT_CREDENTIAL, "$1<redacted>$2")
    .replace(JSON_CREDENTIAL, '$1<redacted>"');
}
