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

export function parseStamp(text: string | undefined): Stamp | undefined {
  if (!text?.startsWith(PREFIX)) return undefined;
  const end = text.indexOf("~", PREFIX.length);
  if (end < 0) return undefined;
  const [run, sender, target, n, intendedUs] = text.slice(PREFIX.length, end).split("|");
  if (run === undefined || target === undefined) return undefined;
  const s = { run, sender: Number(sender), target, n: Number(n), intendedUs: Number(intendedUs) };
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
