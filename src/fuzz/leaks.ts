/**
 * What must never leave a service: its secrets (admin secret, JWT signing key, database
 * passwords), and tokens it did not hand out on purpose. A finding names the secret, never
 * its value, so the fuzzer's own output cannot leak it.
 */
export interface NamedSecret {
  name: string;
  value: string;
}

const JWT = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/;

/** Secrets shorter than this are skipped: a 4-character value would match ordinary text. */
const MIN_SECRET_LENGTH = 6;

/**
 * Names of the secrets in `text`, and `jwt` when it holds a token and tokens are not expected there
 * (only a successful login answers with tokens; an error that echoes one puts it in every proxy's log).
 */
export function findLeaks(text: string, secrets: NamedSecret[], o: { tokensExpected: boolean }): string[] {
  const found: string[] = [];
  for (const s of secrets)
    if (s.value.length >= MIN_SECRET_LENGTH && text.includes(s.value)) found.push(s.name);
  if (!o.tokensExpected && JWT.test(text)) found.push("jwt");
  return found;
}
