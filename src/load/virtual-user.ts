import type { ChatDriver, DriverSession, Recipient } from "../drivers/driver.js";
import { nowUs, wallMsToUs } from "../metrics/clock.js";
import { type Counters, type ErrorCounts, errorCode } from "../metrics/counters.js";
import type { DeliveryLedger } from "./delivery-ledger.js";
import type { PlanUser } from "./messages.js";
import { encodeStamp, filler } from "./stamp.js";
import type { TargetPlan } from "./topology.js";

/** Where a message goes; from `vu.peer()` or `vu.group()`. */
export interface MessageTarget {
  readonly key: string;
  readonly recipient: Recipient;
}

/**
 * What a scenario's function gets for one operation of one user. Operations never throw:
 * a failure is counted by its code and the operation answers false, so a scenario stays
 * the few lines that say what a user does.
 */
export interface VirtualUser {
  readonly index: number;
  readonly userID: string;
  /** When this operation was meant to start (µs, shared monotonic clock). */
  readonly intendedUs: number;
  readonly connected: boolean;
  /** The other user of this user's pair. */
  peer(): MessageTarget;
  /** This user's group. */
  group(): MessageTarget;
  /** Filler that makes a stamped message about `bytes` long. */
  payload(bytes: number): string;
  /** Stamps, sends, waits for the ack; delivery to every recipient is tracked from here. */
  sendText(to: MessageTarget, body?: string): Promise<boolean>;
  login(): Promise<boolean>;
  connect(): Promise<boolean>;
  disconnect(): Promise<void>;
  sleep(ms: number): Promise<void>;
}

export type MetricName =
  | "ack"
  | "e2e"
  | "e2e_last"
  | "login"
  | "connect"
  | "heartbeat"
  | "iteration"
  | "schedule_lag"
  | "to_server"
  | "server_to_ack"
  | "server_to_push"
  | "fanout_spread"
  | "http";

/** What an operation needs from the worker it runs in. */
export interface VuHost {
  readonly run: string;
  readonly driver: ChatDriver;
  readonly ledger: DeliveryLedger;
  readonly counters: Counters;
  readonly errors: ErrorCounts;
  record(metric: MetricName, us: number): void;
  connectionChanged(delta: number): void;
}

/** One user's lasting state in a worker: its session and how busy it is. */
export class UserState {
  session: DriverSession | undefined;
  connected = false;
  inFlight = 0;
  readonly userID: string;

  constructor(readonly plan: PlanUser) {
    this.userID = plan.user.userID;
  }

  get index(): number {
    return this.plan.index;
  }
}

export function countError(errors: ErrorCounts, err: unknown): void {
  const code = errorCode(err);
  errors[code] = (errors[code] ?? 0) + 1;
}

/**
 * One operation's view of a user. Each step is timed from where the previous one ended,
 * and the first from the intended start — so a late generator or a slow server shows in
 * the first step's latency rather than vanishing.
 */
export class Operation implements VirtualUser {
  private cursorUs: number;

  constructor(
    private readonly host: VuHost,
    private readonly state: UserState,
    readonly intendedUs: number,
  ) {
    this.cursorUs = intendedUs;
  }

  get index(): number {
    return this.state.index;
  }

  get userID(): string {
    return this.state.userID;
  }

  get connected(): boolean {
    return this.state.connected;
  }

  peer(): MessageTarget {
    return this.target(this.state.plan.peer, "peer", "pairs");
  }

  group(): MessageTarget {
    return this.target(this.state.plan.group, "group", "groups");
  }

  payload(bytes: number): string {
    return filler(bytes);
  }

  async sendText(to: MessageTarget, body = ""): Promise<boolean> {
    const { host, state } = this;
    const session = state.session;
    if (!session || !state.connected) {
      // Never left this process: an error, not a message the stack lost.
      countError(host.errors, { code: "not-connected" });
      host.counters.sendErrors++;
      return false;
    }
    const startUs = this.cursorUs;
    const n = host.ledger.expect(state.index, to.key, startUs);
    const stamp = encodeStamp({ run: host.run, sender: state.index, target: to.key, n, intendedUs: startUs });
    try {
      const sentUs = nowUs();
      const ack = await session.send(to.recipient, body ? `${stamp} ${body}` : stamp);
      const now = nowUs();
      host.counters.acked++;
      host.record("ack", now - startUs);
      if (ack.serverTime) {
        // Where the ack's time went: on the way to the server's stamp, and from it back.
        const stampedUs = wallMsToUs(ack.serverTime);
        host.record("to_server", Math.max(0, stampedUs - sentUs));
        host.record("server_to_ack", Math.max(0, now - stampedUs));
      }
      this.cursorUs = now;
      return true;
    } catch (err) {
      host.counters.sendErrors++;
      countError(host.errors, err);
      this.cursorUs = nowUs();
      return false;
    }
  }

  async login(): Promise<boolean> {
    const { host, state } = this;
    try {
      state.session = await host.driver.login(state.plan.user);
      const now = nowUs();
      host.counters.logins++;
      host.record("login", now - this.cursorUs);
      this.cursorUs = now;
      return true;
    } catch (err) {
      host.counters.loginErrors++;
      countError(host.errors, err);
      this.cursorUs = nowUs();
      return false;
    }
  }

  async connect(): Promise<boolean> {
    const { host, state } = this;
    const session = state.session;
    if (!session) {
      countError(host.errors, { code: "not-logged-in" });
      host.counters.connectErrors++;
      return false;
    }
    try {
      await session.connect(
        (msg) => host.ledger.receive(state.index, msg),
        (reason) => {
          if (state.session !== session || !state.connected) return;
          state.connected = false;
          host.connectionChanged(-1);
          host.counters.connectionsDropped++;
          countError(host.errors, { code: `closed by server: ${reason}` });
        },
        (rttMs) => host.record("heartbeat", rttMs * 1000),
        (kind) => countError(host.errors, { protocolError: kind }),
      );
      const now = nowUs();
      state.connected = true;
      host.connectionChanged(1);
      host.counters.connects++;
      host.record("connect", now - this.cursorUs);
      this.cursorUs = now;
      return true;
    } catch (err) {
      host.counters.connectErrors++;
      countError(host.errors, err);
      this.cursorUs = nowUs();
      return false;
    }
  }

  async disconnect(): Promise<void> {
    await disconnectUser(this.host, this.state);
    this.cursorUs = nowUs();
  }

  /**
   * Think time inside an operation. The next step is meant to start `ms` after this one, so the
   * cursor moves by `ms`: the sleep is never timed as the next step's latency, while a timer
   * that fires late (a busy generator) still is.
   */
  sleep(ms: number): Promise<void> {
    const wait = Math.max(0, Math.min(ms, 3_600_000));
    this.cursorUs += wait * 1000;
    return new Promise((resolve) => setTimeout(resolve, wait));
  }

  private target(plan: TargetPlan | undefined, what: string, topology: string): MessageTarget {
    if (!plan)
      throw new Error(`user ${this.state.index} has no ${what}: the scenario's topology must be ${topology}`);
    return plan;
  }
}

export async function disconnectUser(host: VuHost, state: UserState): Promise<void> {
  const session = state.session;
  state.session = undefined;
  if (state.connected) {
    state.connected = false;
    host.connectionChanged(-1);
    host.counters.disconnects++;
  }
  try {
    await session?.disconnect();
  } catch (err) {
    countError(host.errors, err);
  }
}
