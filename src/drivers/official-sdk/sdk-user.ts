import { nowUs } from "../../metrics/clock.js";
import type {
  HostCommand,
  HostMessage,
  SdkFailure,
  SdkLoginConfig,
  SdkRecipient,
  SdkSentText,
} from "./host-protocol.js";

/**
 * One user of an official OpenIM SDK as cutover drives it: log in, send a text, call any
 * other SDK method, and watch the SDK's callbacks with the time each one fired. The
 * transport (a child process for the native SDK, a Chromium page for the wasm one) is the
 * subclass's business; timings are all on the shared monotonic clock (metrics/clock.ts).
 */

/** One SDK callback as the app sees it. */
export interface SdkEvent {
  /** Order of arrival at this user (1, 2, …). */
  n: number;
  name: string;
  errCode: number;
  errMsg: string;
  data: unknown;
  /** When the SDK called back, µs on the shared clock (nowUs()). */
  atUs: number;
}

/** What a login took, in ms from the moment cutover asked the SDK to log in. */
export interface LoginTimings {
  /** login()'s callback answered (errCode 0 even for a bad token: not proof of anything). */
  loginCallbackMs: number;
  /** OnConnectSuccess: the WebSocket is up and the token was accepted. */
  connectedMs: number;
  /** OnSyncServerFinish: friends, groups, conversations and seqs synced over REST. */
  syncedMs: number;
  /** Both of the above: when an app would show its conversation list. */
  readyMs: number;
  /** getSelfUserInfo answered with this user: the REST API behind apiAddr really is OpenIM's. */
  verifiedMs: number;
}

/** The SDK refused or failed (its errCode and errMsg), or a login ended in a failure event. */
export class SdkError extends Error {
  constructor(
    readonly op: string,
    readonly errCode: number,
    readonly errMsg: string,
    /** The SDK event that carried the failure, when it came as one (OnUserTokenInvalid, …). */
    readonly event?: string,
  ) {
    super(`${op}: ${event ? `${event} ` : ""}errCode ${errCode}${errMsg ? ` (${errMsg})` : ""}`);
  }
}

/** Events that end a login attempt: the SDK answered login() with 0 but could not really log in. */
const LOGIN_FAILURES = [
  "OnConnectFailed",
  "OnUserTokenInvalid",
  "OnUserTokenExpired",
  "OnKickedOffline",
  "OnSyncServerFailed",
];

/** A command before it gets its id. */
type CommandBody = HostCommand extends infer C ? (C extends HostCommand ? Omit<C, "id"> : never) : never;

/** How many past events a user keeps for late waiters and diagnostics. */
const HISTORY = 256;

export type SdkKind = "native" | "wasm";

export abstract class SdkUser {
  abstract readonly kind: SdkKind;
  private nextId = 1;
  private nextEvent = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: unknown) => void; op: string }
  >();
  private readonly listeners = new Set<(e: SdkEvent) => void>();
  private readonly history: SdkEvent[] = [];
  private closedReason: string | undefined;

  protected constructor(readonly userID: string) {}

  /** Sends a command to wherever the SDK runs. */
  protected abstract transmit(cmd: HostCommand): void;
  /** Stops the SDK's process or page. */
  protected abstract shutdown(): Promise<void>;

  /** Feeds what the host said into this user (replies resolve calls, events go to listeners). */
  protected receive(msg: HostMessage): void {
    switch (msg.kind) {
      case "reply": {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        if (msg.ok) p.resolve(msg.data);
        else p.reject(new SdkError(p.op, msg.error.errCode, msg.error.errMsg));
        return;
      }
      case "event": {
        const e: SdkEvent = {
          n: this.nextEvent++,
          name: msg.name,
          errCode: msg.errCode,
          errMsg: msg.errMsg,
          data: msg.data,
          atUs: msg.atUs,
        };
        this.history.push(e);
        if (this.history.length > HISTORY) this.history.shift();
        for (const l of this.listeners) l(e);
        return;
      }
      case "fatal":
        this.failAll(`SDK host failed: ${msg.message}`);
        return;
      case "ready":
        return;
    }
  }

  /** Rejects every call in flight; later calls fail at once. */
  protected failAll(reason: string): void {
    this.closedReason ??= reason;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new Error(`${this.userID} ${p.op}: ${reason}`));
    }
  }

  private request<T>(op: string, cmd: CommandBody): Promise<T> {
    if (this.closedReason) return Promise.reject(new Error(`${this.userID} ${op}: ${this.closedReason}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, op });
      this.transmit({ ...cmd, id } as HostCommand);
    });
  }

  /** Every SDK event from now on; returns the unsubscribe function. */
  on(listener: (e: SdkEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Events seen so far (the last few hundred). */
  events(name?: string): SdkEvent[] {
    return name ? this.history.filter((e) => e.name === name) : [...this.history];
  }

  /** The next event named `name` (or already seen after `after`) that `match` accepts. */
  waitFor(
    name: string | string[],
    opts: { match?: (e: SdkEvent) => boolean; timeoutMs?: number; after?: number } = {},
  ): Promise<SdkEvent> {
    const names = Array.isArray(name) ? name : [name];
    const { match = () => true, timeoutMs = 10_000, after } = opts;
    const ok = (e: SdkEvent) => names.includes(e.name) && match(e);
    if (after !== undefined) {
      const seen = this.history.find((e) => e.n > after && ok(e));
      if (seen) return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        const got = this.history.slice(-12).map((e) => e.name);
        reject(
          new Error(
            `${this.userID}: no ${names.join("/")} within ${timeoutMs} ms (last events: ${got.join(", ")})`,
          ),
        );
      }, timeoutMs);
      const off = this.on((e) => {
        if (!ok(e)) return;
        clearTimeout(timer);
        off();
        resolve(e);
      });
    });
  }

  /** The number of the last event seen (for waitFor's `after`). */
  get lastEvent(): number {
    return this.nextEvent - 1;
  }

  /**
   * initSDK + login, then waits for the proof login() does not give: OnConnectSuccess and
   * OnSyncServerFinish, and then the user's own profile (getSelfUserInfo), since the sync
   * "finishes" even when its REST calls all failed. A failure event (OnUserTokenInvalid,
   * OnConnectFailed, …) rejects with an SdkError naming it.
   */
  async login(config: SdkLoginConfig, timeoutMs = 15_000): Promise<LoginTimings> {
    const mark = this.lastEvent;
    const startUs = nowUs();
    const since = (us: number) => (us - startUs) / 1000;
    const failure = this.waitFor(LOGIN_FAILURES, { after: mark, timeoutMs }).then((e) => {
      throw new SdkError("login", e.errCode, e.errMsg, e.name);
    });
    failure.catch(() => undefined);
    const race = <T>(p: Promise<T>) => Promise.race([p, failure]);
    await race(this.startLogin(config));
    const callbackMs = since(nowUs());
    const [connected, synced] = await race(
      Promise.all([
        this.waitFor("OnConnectSuccess", { after: mark, timeoutMs }),
        this.waitFor("OnSyncServerFinish", { after: mark, timeoutMs }),
      ]),
    );
    const connectedMs = since(connected.atUs);
    const syncedMs = since(synced.atUs);
    // OnSyncServerFinish fires even when every REST call of the sync failed (apiAddr wrong or
    // not OpenIM's); the SDK's own profile, which only that API can give it, tells.
    const self = await race(
      this.call<{ userID?: string }>("getSelfUserInfo").catch((err: unknown) => {
        const why = err instanceof SdkError ? err.errMsg.split(" | ")[0] : String(err);
        throw new SdkError(
          "login",
          -1,
          `the SDK synced but cannot read its own profile over ${config.apiAddr}: ${why}`,
        );
      }),
    );
    if (self.userID !== config.userID)
      throw new SdkError(
        "login",
        -1,
        `getSelfUserInfo answered ${JSON.stringify(self.userID)}, not ${config.userID}`,
      );
    return {
      loginCallbackMs: callbackMs,
      connectedMs,
      syncedMs,
      readyMs: Math.max(connectedMs, syncedMs),
      verifiedMs: since(nowUs()),
    };
  }

  /**
   * initSDK + login alone: resolves with login()'s own answer, which is errCode 0 even for
   * another user's token or an unreachable WebSocket (§9) — use login() to know more.
   */
  startLogin(config: SdkLoginConfig): Promise<unknown> {
    return this.request("login", { op: "login", config });
  }

  /** createTextMessage + sendMessage; resolves with the message as the send callback returned it (seq 0). */
  sendText(to: SdkRecipient, text: string): Promise<SdkSentText> {
    return this.request("sendText", { op: "sendText", to, text });
  }

  /** Any public SDK method by name, e.g. call("getOneConversation", { sourceID, sessionType }). */
  call<T = unknown>(method: string, ...args: unknown[]): Promise<T> {
    return this.request(method, { op: "call", method, args });
  }

  async close(): Promise<void> {
    this.failAll("closed");
    this.listeners.clear();
    await this.shutdown();
  }
}

/** The text an SDK message carries, if it is a text. */
export function sdkText(m: { contentType: number; textElem?: { content: string } }): string | undefined {
  return m.contentType === 101 ? m.textElem?.content : undefined;
}

export type { SdkFailure };
