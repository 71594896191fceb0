import type { InboundMessage } from "../drivers/driver.js";
import { nowUs, perfToUs, wallMsToUs } from "../metrics/clock.js";
import type { Counters } from "../metrics/counters.js";
import { GrowableBitset } from "./bitset.js";
import { parseStamp } from "./stamp.js";

/**
 * The books of one worker: every message it sends is expected at each recipient, and
 * ends as exactly one of delivered or lost per recipient when the phase closes its books.
 * A pair or a group always lives whole in one worker, so sender and receivers share this
 * ledger and nothing crosses threads per message.
 */

interface Pending {
  intendedUs: number;
  remaining: number;
  lastArrivalUs: number;
  firstArrivalUs: number;
}

interface Stream {
  recipients: number[];
  next: number;
  pending: Map<number, Pending>;
  /** Per recipient: message numbers seen, to tell a duplicate from a first delivery. */
  seen: Map<number, GrowableBitset>;
}

export type LatencySink = (
  metric: "e2e" | "e2e_last" | "server_to_push" | "fanout_spread",
  us: number,
) => void;

export class DeliveryLedger {
  /** By sender, then target: nested maps, so the per-message lookups build no key strings. */
  private readonly streams = new Map<number, Map<string, Stream>>();
  /** By recipient, then conversation: the last seq delivered. */
  private readonly lastSeq = new Map<number, Map<string, number>>();
  private pendingMessages = 0;

  constructor(
    private readonly run: string,
    /** The current phase's counters (a ledger outlives phases: late arrivals must still be recognised). */
    private readonly books: () => Counters,
    private readonly record: LatencySink,
  ) {}

  /** A sender's target and who must receive what it sends there (the sender itself excluded). */
  openStream(sender: number, target: string, recipients: number[]): void {
    let bySender = this.streams.get(sender);
    if (!bySender) {
      bySender = new Map();
      this.streams.set(sender, bySender);
    }
    if (!bySender.has(target))
      bySender.set(target, { recipients, next: 0, pending: new Map(), seen: new Map() });
  }

  /** Called before the send leaves, so a push that overtakes the ack still finds its entry. */
  expect(sender: number, target: string, intendedUs: number): number {
    const stream = this.stream(sender, target);
    const n = stream.next++;
    stream.pending.set(n, {
      intendedUs,
      remaining: stream.recipients.length,
      lastArrivalUs: 0,
      firstArrivalUs: Number.POSITIVE_INFINITY,
    });
    this.pendingMessages++;
    this.books().sent++;
    this.books().expectedDeliveries += stream.recipients.length;
    return n;
  }

  receive(recipient: number, msg: InboundMessage): void {
    const stamp = parseStamp(msg.text);
    if (!stamp || stamp.run !== this.run) {
      this.books().unexpected++;
      return;
    }
    // OpenIM pushes a sender's own messages back to its session; they are not deliveries.
    if (stamp.sender === recipient) return;
    const stream = this.streams.get(stamp.sender)?.get(stamp.target);
    if (!stream?.recipients.includes(recipient) || stamp.n >= stream.next) {
      this.books().unexpected++;
      return;
    }
    this.checkOrder(recipient, msg);
    let seen = stream.seen.get(recipient);
    if (!seen) {
      seen = new GrowableBitset();
      stream.seen.set(recipient, seen);
    }
    if (!seen.add(stamp.n)) {
      this.books().duplicated++;
      return;
    }
    const pending = stream.pending.get(stamp.n);
    if (!pending) {
      // First arrival after its phase closed the books, where it was counted lost.
      this.books().late++;
      return;
    }
    const arrivedUs = msg.receivedAt > 0 ? perfToUs(msg.receivedAt) : nowUs();
    this.books().delivered++;
    this.record("e2e", arrivedUs - pending.intendedUs);
    // The server's stamp splits e2e: what came before it, and the pipeline after it to this client.
    if (msg.serverTime) this.record("server_to_push", Math.max(0, arrivedUs - wallMsToUs(msg.serverTime)));
    pending.lastArrivalUs = Math.max(pending.lastArrivalUs, arrivedUs);
    pending.firstArrivalUs = Math.min(pending.firstArrivalUs, arrivedUs);
    pending.remaining--;
    if (pending.remaining === 0) {
      if (stream.recipients.length > 1) {
        this.record("e2e_last", pending.lastArrivalUs - pending.intendedUs);
        this.record("fanout_spread", pending.lastArrivalUs - pending.firstArrivalUs);
      }
      stream.pending.delete(stamp.n);
      this.pendingMessages--;
    }
  }

  /** Messages still owed to at least one recipient. */
  get pending(): number {
    return this.pendingMessages;
  }

  /** End of a phase's drain window: whatever has not arrived is lost. */
  closeBooks(): void {
    for (const bySender of this.streams.values()) {
      for (const stream of bySender.values()) {
        for (const p of stream.pending.values()) this.books().lost += p.remaining;
        stream.pending.clear();
      }
    }
    this.pendingMessages = 0;
  }

  private stream(sender: number, target: string): Stream {
    const stream = this.streams.get(sender)?.get(target);
    if (!stream) throw new Error(`user ${sender} has no stream to ${target}`);
    return stream;
  }

  private checkOrder(recipient: number, msg: InboundMessage): void {
    if (msg.seq <= 0) return; // a stack without seqs says nothing about order
    let byConversation = this.lastSeq.get(recipient);
    if (!byConversation) {
      byConversation = new Map();
      this.lastSeq.set(recipient, byConversation);
    }
    const last = byConversation.get(msg.conversationID) ?? 0;
    if (msg.seq < last) this.books().outOfOrder++;
    else byConversation.set(msg.conversationID, msg.seq);
  }
}
