/**
 * Per-conversation record of which seqs a client has delivered, so that a message
 * arriving twice (a push racing a catch-up pull) is emitted once, and so that after a
 * reconnect the client knows which seq ranges it missed.
 *
 * Dedupe is exact within the most recent `window` seqs of a conversation; anything older
 * counts as seen. That keeps memory bounded per conversation during long soaks.
 */

interface ConversationSeqs {
  /** Every seq <= floor has been delivered (or has aged out of the window). */
  floor: number;
  /** Delivered seqs above the floor. */
  above: Set<number>;
  max: number;
  firstSeen: number;
}

export interface CatchUpRange {
  conversationID: string;
  begin: number;
  end: number;
}

export interface SeqTrackerOptions {
  window?: number;
}

export class SeqTracker {
  private readonly conversations = new Map<string, ConversationSeqs>();
  private baseline: Map<string, number> | undefined;
  private readonly window: number;

  constructor(opts: SeqTrackerOptions = {}) {
    this.window = Math.max(16, opts.window ?? 1024);
  }

  /**
   * The server's newest seqs when the session started. Seqs at or below them are history
   * the session never claimed, so a catch-up does not pull them; a conversation absent
   * from the baseline started during the session and is caught up from seq 1.
   */
  setBaseline(maxSeqs: Record<string, number>): void {
    this.baseline = new Map(Object.entries(maxSeqs));
  }

  /** True the first time a (conversation, seq) is seen. Seq 0 (unsequenced) is always new. */
  markSeen(conversationID: string, seq: number): boolean {
    if (seq <= 0) return true;
    let c = this.conversations.get(conversationID);
    if (!c) {
      c = { floor: 0, above: new Set(), max: 0, firstSeen: seq };
      this.conversations.set(conversationID, c);
    }
    if (seq <= c.floor || c.above.has(seq)) return false;
    c.above.add(seq);
    if (seq > c.max) c.max = seq;
    this.compact(c);
    return true;
  }

  lastSeq(conversationID: string): number | undefined {
    return this.conversations.get(conversationID)?.max;
  }

  knownConversations(): string[] {
    return [...this.conversations.keys()];
  }

  /**
   * Seq ranges to pull given the server's newest seqs (a 1001 answer): from the first seq
   * this session has not delivered up to the server's max. Without a baseline, only
   * conversations already seen are considered, starting at their first seen seq.
   */
  catchUpRanges(serverMaxSeqs: Record<string, number>, maxPerConversation = 10_000): CatchUpRange[] {
    const ranges: CatchUpRange[] = [];
    for (const [conversationID, serverMax] of Object.entries(serverMaxSeqs)) {
      const c = this.conversations.get(conversationID);
      let scope: number;
      if (this.baseline) scope = this.baseline.get(conversationID) ?? 0;
      else if (c) scope = c.firstSeen - 1;
      else continue;
      let begin = Math.max(scope, c?.floor ?? 0) + 1;
      while (c?.above.has(begin)) begin++;
      if (begin > serverMax) continue;
      begin = Math.max(begin, serverMax - maxPerConversation + 1);
      ranges.push({ conversationID, begin, end: serverMax });
    }
    return ranges;
  }

  private compact(c: ConversationSeqs): void {
    while (c.above.delete(c.floor + 1)) c.floor++;
    if (c.above.size <= this.window) return;
    // Forget the older half: those seqs now count as seen.
    const sorted = [...c.above].sort((a, b) => a - b);
    const keepFrom = sorted.length - Math.floor(this.window / 2);
    for (let i = 0; i < keepFrom; i++) c.above.delete(sorted[i] as number);
    c.floor = sorted[keepFrom - 1] as number;
    while (c.above.delete(c.floor + 1)) c.floor++;
  }
}

/** Splits catch-up ranges into 1002 requests of at most `seqsPerRange` seqs and `rangesPerRequest` ranges. */
export function chunkRanges(
  ranges: CatchUpRange[],
  seqsPerRange = 100,
  rangesPerRequest = 20,
): CatchUpRange[][] {
  const pieces: CatchUpRange[] = [];
  for (const r of ranges) {
    for (let begin = r.begin; begin <= r.end; begin += seqsPerRange) {
      pieces.push({
        conversationID: r.conversationID,
        begin,
        end: Math.min(r.end, begin + seqsPerRange - 1),
      });
    }
  }
  const requests: CatchUpRange[][] = [];
  for (let i = 0; i < pieces.length; i += rangesPerRequest)
    requests.push(pieces.slice(i, i + rangesPerRequest));
  return requests;
}
