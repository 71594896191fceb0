import type {
  ChatDriver,
  DriverSession,
  DriverUser,
  InboundMessage,
  Recipient,
  SendAck,
} from "../drivers/driver.js";

/**
 * An in-memory chat stack with faults on demand — fixed latency, a full stall, lost and
 * duplicated deliveries — whose own books say exactly what it did, so tests can check the
 * engine's accounting and its latency against the truth. Never a target for real runs.
 */
export interface FakeStackOptions {
  /** Added before each ack and each delivery. */
  latencyMs?: number;
  /** Drop every n-th delivery (0: none). */
  loseEvery?: number;
  /** Deliver every n-th delivery twice (0: none). */
  duplicateEvery?: number;
  /** Push a group message back to its sender too, as OpenIM does. */
  echoToSender?: boolean;
  /** Sends are served one at a time, each taking this long: a capacity of 1000/serviceTimeMs per second. */
  serviceTimeMs?: number;
}

export class FakeChatStack {
  readonly truth = { sends: 0, deliveries: 0, lost: 0, duplicated: 0 };
  private readonly inboxes = new Map<string, (m: InboundMessage) => void>();
  private readonly closers = new Map<string, (reason: string) => void>();
  private readonly groups = new Map<string, string[]>();
  private readonly seqs = new Map<string, number>();
  private stalledUntil = 0;
  private busyUntil = 0;
  private nextUser = 0;
  private nextMsg = 0;
  private deliveryCount = 0;

  constructor(readonly opts: FakeStackOptions = {}) {}

  /** Nothing is acked or delivered for `ms` from now; then everything held goes at once. */
  stall(ms: number): void {
    this.stalledUntil = performance.now() + ms;
  }

  /** The server closes `count` connections (as a gateway dropping silent clients would). */
  dropConnections(count: number): void {
    for (const [userID, close] of [...this.closers].slice(0, count)) {
      this.inboxes.delete(userID);
      this.closers.delete(userID);
      close("dropped by the fake stack");
    }
  }

  driver(): ChatDriver {
    return {
      name: "fake",
      createUsers: async (count, prefix = "vu") =>
        Array.from({ length: count }, () => ({
          userID: `${prefix}${this.nextUser++}`,
          password: "",
          platformID: 3,
        })),
      login: async (user) => this.session(user),
      createGroup: async (owner, members) => {
        const id = `g${this.groups.size}`;
        this.groups.set(id, [owner.userID, ...members.map((m) => m.userID)]);
        return id;
      },
      close: async () => {},
    };
  }

  private session(user: DriverUser): DriverSession {
    return {
      userID: user.userID,
      connect: async (onMessage, onClosed) => {
        this.inboxes.set(user.userID, onMessage);
        if (onClosed) this.closers.set(user.userID, onClosed);
      },
      send: (to, text) => this.send(user.userID, to, text),
      disconnect: async () => {
        this.inboxes.delete(user.userID);
        this.closers.delete(user.userID);
      },
    };
  }

  private async send(from: string, to: Recipient, text: string): Promise<SendAck> {
    this.truth.sends++;
    const clientMsgID = `m${this.nextMsg++}`;
    await this.wait();
    const serverTime = Date.now();
    const conversationID = "groupID" in to ? `sg_${to.groupID}` : `si_${[from, to.userID].sort().join("_")}`;
    const seq = (this.seqs.get(conversationID) ?? 0) + 1;
    this.seqs.set(conversationID, seq);
    const members = "groupID" in to ? (this.groups.get(to.groupID) ?? []) : [to.userID];
    const recipients = members.filter((m) => m !== from || this.opts.echoToSender);
    for (const r of recipients) {
      const msg = { conversationID, seq, sendID: from, clientMsgID, text, serverTime };
      if (r === from) {
        this.inboxes.get(r)?.({ ...msg, receivedAt: performance.now() });
        continue;
      }
      this.truth.deliveries++;
      this.deliveryCount++;
      const { loseEvery = 0, duplicateEvery = 0 } = this.opts;
      if (loseEvery > 0 && this.deliveryCount % loseEvery === 0) {
        this.truth.lost++;
        continue;
      }
      const inbox = this.inboxes.get(r);
      inbox?.({ ...msg, receivedAt: performance.now() });
      if (duplicateEvery > 0 && this.deliveryCount % duplicateEvery === 0) {
        this.truth.duplicated++;
        inbox?.({ ...msg, receivedAt: performance.now() });
      }
    }
    return { clientMsgID, serverTime };
  }

  private async wait(): Promise<void> {
    const latency = this.opts.latencyMs ?? 0;
    let until = Math.max(this.stalledUntil, performance.now() + latency);
    if (this.opts.serviceTimeMs) {
      // A single server: this send waits for every send queued before it.
      this.busyUntil = Math.max(this.busyUntil, performance.now()) + this.opts.serviceTimeMs;
      until = Math.max(until, this.busyUntil);
    }
    const ms = until - performance.now();
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    // A stall that began while this send waited holds it too.
    if (this.stalledUntil > performance.now()) await this.wait();
  }
}

/** As a driver module (`--driver src/load/fake-driver.ts`): each worker gets a stack of its own. */
export function createDriver(_endpoints: unknown, options: FakeStackOptions = {}): ChatDriver {
  return new FakeChatStack(options).driver();
}
