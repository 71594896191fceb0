import { setTimeout } from "k6/timers";
import * as m from "./metrics.js";

/**
 * One VU's books: each stamped message it sent, which recipients still owe a delivery, and
 * when it was stamped. Sender and recipients live in the same VU, so every e2e is read on one
 * clock. `settle` counts what did not arrive as lost, so sent × recipients = delivered + lost.
 */

const STAMP = "k6cut";
let tag = "";
let n = 0;

interface Entry {
  stampedAt: number;
  waiting: Set<string>;
  recipients: number;
}

export class Ledger {
  private readonly open = new Map<string, Entry>();
  private readonly done = new Set<string>();

  /** A text of `size` characters holding a fresh id and the send time (ms since the epoch). */
  stamp(size: number): { id: string; text: string; stampedAt: number } {
    if (tag === "") tag = `${__VU}x${Math.floor(Math.random() * 0xffffff).toString(36)}`;
    const id = `${tag}_${++n}`;
    const stampedAt = Date.now();
    const head = `${STAMP}|${id}|${stampedAt}|`;
    return { id, text: head + "x".repeat(Math.max(0, size - head.length)), stampedAt };
  }

  /** The message was acked: its recipients now owe a delivery. */
  expect(id: string, stampedAt: number, recipients: string[]): void {
    this.open.set(id, { stampedAt, waiting: new Set(recipients), recipients: recipients.length });
    m.expectedDeliveries.add(recipients.length);
  }

  /** A pushed text reached `userID`; texts without cutover's stamp (someone else's) are ignored. */
  arrived(userID: string, text: string | undefined, at: number): void {
    if (!text?.startsWith(`${STAMP}|`)) return;
    const id = text.split("|")[1] ?? "";
    const entry = this.open.get(id);
    if (!entry) {
      if (this.done.has(id)) m.duplicated.add(1);
      return;
    }
    if (!entry.waiting.delete(userID)) {
      m.duplicated.add(1);
      return;
    }
    m.delivered.add(1);
    m.e2e.add(at - entry.stampedAt);
    if (entry.waiting.size === 0) {
      if (entry.recipients > 1) m.e2eLast.add(at - entry.stampedAt);
      this.open.delete(id);
      this.done.add(id);
    }
  }

  /** Deliveries still owed. */
  outstanding(): number {
    let owed = 0;
    for (const e of this.open.values()) owed += e.waiting.size;
    return owed;
  }

  /** Closes the books on everything still open: what has not arrived is lost. */
  settle(): void {
    let lost = 0;
    for (const [id, e] of this.open) {
      lost += e.waiting.size;
      this.done.add(id);
    }
    // Added even when 0: k6 writes a metric only once it has a sample, and `lost` has a threshold.
    m.lost.add(lost);
    this.open.clear();
    // Late duplicates of settled ids are still recognised for one iteration; older ones need no memory.
    if (this.done.size > 10_000) this.done.clear();
  }
}

/** Resolves once nothing is owed or after timeoutMs, polling every pollMs. */
export function waitForDeliveries(ledger: Ledger, timeoutMs: number, pollMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    const tick = () => {
      if (ledger.outstanding() === 0 || Date.now() >= deadline) resolve();
      else setTimeout(tick, pollMs);
    };
    tick();
  });
}
