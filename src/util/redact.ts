/**
 * Removes credentials from text a report will show: JWTs (OpenIM tokens and the gateway's),
 * `token=` query values, bearer headers and passwords in JSON. Reports are shared; tokens must not be.
 */
export function redact(text: string): string {
  return text
    .replace(/eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, "<jwt>")
    .replace(/([?&]token=)[^&\s"']+/g, "$1<redacted>")
    .replace(/(Bearer\s+)[A-Za-z0-9._-]+/gi, "$1<redacted>")
    .replace(/("(?:password|adminSecret|secret)"\s*:\s*")[^"]*"/g, '$1<redacted>"');
}
