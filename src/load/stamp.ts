/**
 * What a sender writes at the front of every message so any receiver can account for it
 * without asking anyone: the run, the stream (sender → target), the message's number in
 * that stream, and its intended send time on the shared monotonic clock (µs).
 *
 *   ~c1|<run>|<sender>|<target>|<n>|<intendedUs>~ <payload>
 */
export interface Stamp {
  run: string;
  sender: number;
  /** `u<index>` for a user, `g<index>` for a group. */
  target: string;
  n: number;
  intendedUs: number;
}

const PREFIX = "~c1|";

export function encodeStamp(s: Stamp): string {
  return `${PREFIX}${s.run}|${s.sender}|${s.target}|${s.n}|${s.intendedUs}~`;
}

/** Read with indexOf and slice, not split: it runs once per message received. */
export function parseStamp(text: string | undefined): Stamp | undefined {
  if (!text?.startsWith(PREFIX)) return undefined;
  const end = text.indexOf("~", PREFIX.length);
  if (end < 0) return undefined;
  const a = text.indexOf("|", PREFIX.length);
  const b = a < 0 || a > end ? -1 : text.indexOf("|", a + 1);
  const c = b < 0 || b > end ? -1 : text.indexOf("|", b + 1);
  const d = c < 0 || c > end ? -1 : text.indexOf("|", c + 1);
  if (d < 0 || d > end) return undefined;
  // A fifth field separator inside the stamp means it is not one of ours.
  const e = text.indexOf("|", d + 1);
  if (e >= 0 && e < end) return undefined;
  const s = {
    run: text.slice(PREFIX.length, a),
    sender: Number(text.slice(a + 1, b)),
    target: text.slice(b + 1, c),
    n: Number(text.slice(c + 1, d)),
    intendedUs: Number(text.slice(d + 1, end)),
  };
  return Number.isInteger(s.sender) && Number.isInteger(s.n) && Number.isFinite(s.intendedUs) ? s : undefined;
}

const fillers = new Map<number, string>();

/** Filler so a stamped message is about `bytes` long; cached, since a run asks for the same size each time. */
export function filler(bytes: number): string {
  // The stamp itself takes ~45 bytes.
  const n = Math.max(0, Math.floor(bytes) - 46);
  let s = fillers.get(n);
  if (s === undefined) {
    s = "x".repeat(n);
    fillers.set(n, s);
  }
  return s;
}
