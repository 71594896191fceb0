import { randomBytes } from "node:crypto";
import { errorMessage } from "../util/errors.js";
import { sleep } from "../util/time.js";
import type { ChatDriver, DriverSession, DriverUser, InboundMessage, SendAck } from "./driver.js";

/**
 * What every driver must do for the load engine to count it right, checked against the real
 * stack behind it: `cutover check-driver` runs this. Each check is one behaviour the ledger
 * relies on (an ack to match, a delivery once with its sender and seq, order, fan-out, silence
 * after disconnect, refusals), bounded in time so a driver that hangs fails that check by name.
 */

export interface ContractCheck {
  check: string;
  ok: boolean;
  detail: string;
  ms: number;
  /** Not applicable to this driver (ok stays true); the detail says why. */
  skipped?: boolean;
}

export interface ContractOptions {
  /** Each check's bound: a driver call that has not answered within it fails the check (default 10 s). */
  timeoutMs?: number;
  /** How long to watch for a duplicate, or for a delivery after disconnect (default 500 ms). */
  settleMs?: number;
  /** Told each check as it ends, for a live printout. */
  onCheck?: (check: ContractCheck) => void;
}

export const CONTRACT_DEFAULTS = { timeoutMs: 10_000, settleMs: 500 } as const;

/** A driver call that did not answer in time (as opposed to one that rejected). */
class CheckTimeout extends Error {}

/** A check's clock: every driver call in it gets what is left of `ms`. */
class Budget {
  private readonly deadline: number;

  constructor(readonly ms: number) {
    this.deadline = performance.now() + ms;
  }

  get end(): number {
    return this.deadline;
  }

  /** `call()`'s answer, or a CheckTimeout naming `what` once the check's time is up. */
  async bound<T>(call: () => T | Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new CheckTimeout(`${what}: no answer within ${this.ms} ms`)),
        Math.max(0, this.deadline - performance.now()),
      );
    });
    try {
      return await Promise.race([Promise.resolve().then(call), late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Everything one user's channel delivered, with a way to wait for what a check expects. */
class Inbox {
  readonly got: InboundMessage[] = [];
  private readonly waiters = new Set<() => void>();

  readonly push = (msg: InboundMessage): void => {
    this.got.push(msg);
    for (const wake of this.waiters) wake();
  };

  /** Resolves true once `enough(got)` holds, false at `deadline` (performance.now() time). */
  async until(enough: (got: InboundMessage[]) => boolean, deadline: number): Promise<boolean> {
    while (!enough(this.got)) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
    return true;
  }

  copies(clientMsgID: string): InboundMessage[] {
    return this.got.filter((m) => m.clientMsgID === clientMsgID);
  }
}

interface Party {
  user: DriverUser;
  session: DriverSession;
  inbox: Inbox;
}

/** What the checks build on, in order: the driver, its users, their sessions, the first exchange. */
class Bench {
  driver: ChatDriver | undefined;
  users: DriverUser[] = [];
  parties: Party[] = [];
  /** The first direct message, a → b: what "receive" looks for. */
  direct: { ack: SendAck; text: string; sentAt: number } | undefined;
  /** How long "receive" took: the disconnect check watches at least a few times as long. */
  deliveryMs = 0;
  /** Sessions opened anywhere, closed at the end whatever happened. */
  readonly opened: DriverSession[] = [];

  constructor(
    readonly make: () => ChatDriver | Promise<ChatDriver>,
    readonly o: Required<Omit<ContractOptions, "onCheck">>,
  ) {}

  get d(): ChatDriver {
    if (!this.driver) throw new Error("no driver");
    return this.driver;
  }

  party(i: number): Party {
    const p = this.parties[i];
    if (!p) throw new Error(`no session ${i}`);
    return p;
  }

  user(i: number): DriverUser {
    const u = this.users[i];
    if (!u) throw new Error(`no user ${i}`);
    return u;
  }

  /** A recognisable text no earlier run can have sent. */
  text(what: string): string {
    return `cutover check-driver ${randomBytes(4).toString("hex")} ${what}`;
  }

  /** Disconnects every session and closes the driver, each bounded, errors ignored. */
  async cleanup(): Promise<void> {
    const budget = () => new Budget(this.o.timeoutMs);
    await Promise.allSettled(this.opened.map((s) => budget().bound(() => s.disconnect(), "disconnect")));
    if (this.driver)
      await budget()
        .bound(() => this.d.close(), "close")
        .catch(() => {});
  }
}

type Outcome = string | { skipped: string };
type Step = { name: string; needs: string[]; run: (b: Bench, t: Budget) => Promise<Outcome> };

const fail = (detail: string): never => {
  throw new Error(detail);
};

const ms = (since: number) => `${Math.round(performance.now() - since)} ms`;

async function createUsers(b: Bench, t: Budget): Promise<Outcome> {
  // Two calls: "unique across runs" is at least unique across calls.
  const first = await t.bound(() => b.d.createUsers(3, "contract"), "createUsers(3)");
  const second = await t.bound(() => b.d.createUsers(1, "contract"), "createUsers(1)");
  if (first.length !== 3 || second.length !== 1)
    fail(`createUsers(3) gave ${first.length} users, createUsers(1) gave ${second.length}`);
  const ids = [...first, ...second].map((u) => u.userID);
  if (ids.some((id) => typeof id !== "string" || id === "")) fail("a user has no userID");
  if (new Set(ids).size !== ids.length) fail(`userIDs repeat: ${ids.join(", ")}`);
  b.users = [...first, ...second];
  return `${ids.length} distinct users from createUsers(3) and createUsers(1)`;
}

async function login(b: Bench, t: Budget): Promise<Outcome> {
  for (const user of b.users.slice(0, 3)) {
    const session = await t.bound(() => b.d.login(user), `login ${user.userID}`);
    b.opened.push(session);
    if (session.userID !== user.userID)
      fail(`login ${user.userID} gave a session for ${String(session.userID)}`);
    b.parties.push({ user, session, inbox: new Inbox() });
  }
  return `${b.parties.length} sessions, each for its user`;
}

async function connect(b: Bench, t: Budget): Promise<Outcome> {
  for (const p of b.parties) await t.bound(() => p.session.connect(p.inbox.push), `connect ${p.user.userID}`);
  return `${b.parties.length} realtime channels open`;
}

async function sendAck(b: Bench, t: Budget): Promise<Outcome> {
  const [a, peer] = [b.party(0), b.party(1)];
  const text = b.text("direct");
  const sentAt = performance.now();
  const ack = await t.bound(() => a.session.send({ userID: peer.user.userID }, text), "send");
  if (typeof ack?.clientMsgID !== "string" || ack.clientMsgID === "")
    fail(`the ack has no clientMsgID: ${JSON.stringify(ack)}`);
  b.direct = { ack, text, sentAt };
  return `acked in ${ms(sentAt)}, clientMsgID ${ack.clientMsgID}${ack.serverMsgID ? `, serverMsgID ${ack.serverMsgID}` : ""}`;
}

/** Why no copy with the ack's clientMsgID came: nothing at all, or the text under another ID. */
function missing(inbox: Inbox, clientMsgID: string, text: string, ms: number): string {
  const byText = inbox.got.find((m) => m.text === text);
  if (byText) return `the text arrived with clientMsgID ${byText.clientMsgID}, not the ack's ${clientMsgID}`;
  return `nothing with clientMsgID ${clientMsgID} arrived within ${ms} ms (${inbox.got.length} other message(s))`;
}

/** What is wrong with the copies one recipient got of a message; undefined when it is exactly one, intact. */
function wrongCopies(copies: InboundMessage[], text: string, sendID: string): string | undefined {
  if (copies.length !== 1) return `${copies.length} copies`;
  const m = copies[0] as InboundMessage;
  if (m.text !== text) return `text ${JSON.stringify(m.text)}, sent ${JSON.stringify(text)}`;
  if (m.sendID !== sendID) return `sendID ${m.sendID}, sent by ${sendID}`;
  if (!Number.isInteger(m.seq) || m.seq < 0) return `seq ${m.seq}, expected a whole number ≥ 0`;
  return undefined;
}

async function receive(b: Bench, t: Budget): Promise<Outcome> {
  const [a, peer] = [b.party(0), b.party(1)];
  const { ack, text, sentAt } = b.direct ?? fail("no send to look for");
  const id = ack.clientMsgID;
  if (!(await peer.inbox.until((got) => got.some((m) => m.clientMsgID === id), t.end)))
    fail(missing(peer.inbox, id, text, t.ms));
  const first = peer.inbox.copies(id)[0] as InboundMessage;
  b.deliveryMs = first.receivedAt - sentAt;
  await sleep(b.o.settleMs); // a duplicate would arrive meanwhile
  const wrong = wrongCopies(peer.inbox.copies(id), text, a.user.userID);
  if (wrong) fail(`the peer got ${wrong}`);
  return `the peer got the text once, from the sender, in ${Math.round(b.deliveryMs)} ms (seq ${first.seq})`;
}

async function ordering(b: Bench, t: Budget): Promise<Outcome> {
  const [a, peer] = [b.party(0), b.party(1)];
  const count = 5;
  const ids: string[] = [];
  for (let i = 1; i <= count; i++) {
    const text = b.text(`order ${i}`);
    ids.push(
      (await t.bound(() => a.session.send({ userID: peer.user.userID }, text), `send ${i}`)).clientMsgID,
    );
  }
  const arrived = (got: InboundMessage[]) => got.filter((m) => ids.includes(m.clientMsgID));
  if (!(await peer.inbox.until((got) => arrived(got).length >= count, t.end)))
    fail(`${arrived(peer.inbox.got).length} of ${count} sends arrived within ${t.ms} ms`);
  const got = arrived(peer.inbox.got);
  const order = got.map((m) => ids.indexOf(m.clientMsgID) + 1);
  if (order.some((n, i) => n !== i + 1)) fail(`sent 1…${count}, arrived ${order.join(",")}`);
  const seqs = got.map((m) => m.seq);
  const rising = seqs.every((s, i) => i === 0 || s > (seqs[i - 1] as number));
  if (!rising && seqs.some((s) => s !== 0)) fail(`arrived in order but with seqs ${seqs.join(",")}`);
  return `${count} sequential sends arrived in order${rising ? ` (seq ${seqs[0]}–${seqs[count - 1]})` : ""}`;
}

async function group(b: Bench, t: Budget): Promise<Outcome> {
  const [owner, ...members] = [b.party(0), b.party(1), b.party(2)];
  const groupID = await t.bound(
    () =>
      b.d.createGroup(
        owner.user,
        members.map((m) => m.user),
      ),
    "createGroup",
  );
  const text = b.text("group");
  const sentAt = performance.now();
  const { clientMsgID: id } = await t.bound(() => owner.session.send({ groupID }, text), "send to the group");
  for (const m of members)
    if (!(await m.inbox.until((got) => got.some((x) => x.clientMsgID === id), t.end)))
      fail(`member ${m.user.userID}: ${missing(m.inbox, id, text, t.ms)}`);
  const lastMs = Math.round(
    Math.max(...members.map((m) => (m.inbox.copies(id)[0]?.receivedAt ?? 0) - sentAt)),
  );
  await sleep(b.o.settleMs);
  for (const m of members) {
    const wrong = wrongCopies(m.inbox.copies(id), text, owner.user.userID);
    if (wrong) fail(`member ${m.user.userID} got ${wrong}`);
  }
  const own = owner.inbox.copies(id).length;
  if (own > 1) fail(`the sender got its own message ${own} times`);
  return `group ${groupID}: ${members.length} members got it once each (last in ${lastMs} ms); the sender got ${own === 1 ? "1 copy" : `${own} copies`}`;
}

async function disconnect(b: Bench, t: Budget): Promise<Outcome> {
  const [a, peer] = [b.party(0), b.party(1)];
  await t.bound(() => peer.session.disconnect(), "disconnect");
  const before = peer.inbox.got.length;
  // Something is sent its way: a channel still open would deliver it.
  const refused = await t
    .bound(() => a.session.send({ userID: peer.user.userID }, b.text("after disconnect")), "send to it")
    .then(() => undefined)
    .catch((err: unknown) => (err instanceof CheckTimeout ? fail(err.message) : errorMessage(err)));
  // A few deliveries' time, within the settle bound the check has.
  const watchMs = Math.min(2 * b.o.settleMs, Math.max(b.o.settleMs, 3 * b.deliveryMs));
  await sleep(watchMs);
  const late = peer.inbox.got.length - before;
  if (late > 0) fail(`${late} message(s) delivered after disconnect`);
  await t
    .bound(() => peer.session.disconnect(), "second disconnect")
    .catch((err: unknown) => {
      fail(`a second disconnect threw: ${errorMessage(err)}`);
    });
  const sent = refused ? `(the send to it was refused: ${refused})` : "while a message was sent to it";
  return `nothing delivered in ${Math.round(watchMs)} ms after disconnect ${sent}; a second disconnect returned`;
}

/** Resolves with the rejection's message; fails the check if `call` answers or times out. */
async function mustReject(t: Budget, call: () => Promise<unknown>, what: string): Promise<string> {
  try {
    await t.bound(call, what);
  } catch (err) {
    if (err instanceof CheckTimeout) throw err;
    return errorMessage(err);
  }
  return fail(`${what} resolved instead of rejecting`);
}

async function wrongPassword(b: Bench, t: Budget): Promise<Outcome> {
  const user = b.user(3);
  if (user.password === "")
    return { skipped: "its accounts have no password (DriverUser.password is empty), so none can be wrong" };
  const why = await mustReject(
    t,
    () => b.d.login({ ...user, password: `${user.password}-wrong` }),
    "login with a wrong password",
  );
  return `rejected: ${why}`;
}

async function sendAfterDisconnect(b: Bench, t: Budget): Promise<Outcome> {
  const user = b.user(3);
  const session = await t.bound(() => b.d.login(user), "login");
  b.opened.push(session);
  await t.bound(() => session.connect(() => {}), "connect");
  await t.bound(() => session.disconnect(), "disconnect");
  const why = await mustReject(
    t,
    () => session.send({ userID: b.user(0).userID }, b.text("from a closed session")),
    "send after disconnect",
  );
  return `rejected: ${why}`;
}

async function createDriver(b: Bench, t: Budget): Promise<Outcome> {
  b.driver = await t.bound(b.make, "createDriver");
  return `"${b.driver.name}"`;
}

/** The checks in order; a check whose `needs` failed is reported as not run. */
const STEPS: Step[] = [
  { name: "driver", needs: [], run: createDriver },
  { name: "accounts", needs: ["driver"], run: createUsers },
  { name: "login", needs: ["accounts"], run: login },
  { name: "connect", needs: ["login"], run: connect },
  { name: "send → ack", needs: ["connect"], run: sendAck },
  { name: "receive", needs: ["send → ack"], run: receive },
  { name: "ordering", needs: ["receive"], run: ordering },
  { name: "group", needs: ["receive"], run: group },
  { name: "disconnect", needs: ["receive"], run: disconnect },
  { name: "wrong password", needs: ["accounts"], run: wrongPassword },
  { name: "send after disconnect", needs: ["connect"], run: sendAfterDisconnect },
];

export const CONTRACT_CHECKS = STEPS.map((s) => s.name);

async function runStep(step: Step, b: Bench, done: ContractCheck[]): Promise<ContractCheck> {
  const blocked = step.needs.find((n) => !done.find((c) => c.check === n)?.ok);
  if (blocked) return { check: step.name, ok: false, detail: `not run: needs ${blocked}`, ms: 0 };
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    // Every driver call inside is bounded; this outer bound also covers the settle waits.
    const guard = new Budget(b.o.timeoutMs + 2 * b.o.settleMs + 1000);
    const outcome = await guard.bound(() => step.run(b, new Budget(b.o.timeoutMs)), step.name);
    if (typeof outcome === "string") return { check: step.name, ok: true, detail: outcome, ms: elapsed() };
    return { check: step.name, ok: true, skipped: true, detail: outcome.skipped, ms: elapsed() };
  } catch (err) {
    return { check: step.name, ok: false, detail: firstLine(errorMessage(err)), ms: elapsed() };
  }
}

function firstLine(text: string): string {
  const line = text.split("\n")[0] ?? "";
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/**
 * Runs every check against the driver `make` builds, in order, and closes it after. Never
 * throws for the driver's faults: they are failed checks.
 */
export async function runDriverContract(
  make: () => ChatDriver | Promise<ChatDriver>,
  opts: ContractOptions = {},
): Promise<ContractCheck[]> {
  const bench = new Bench(make, {
    timeoutMs: opts.timeoutMs ?? CONTRACT_DEFAULTS.timeoutMs,
    settleMs: opts.settleMs ?? CONTRACT_DEFAULTS.settleMs,
  });
  const done: ContractCheck[] = [];
  try {
    for (const step of STEPS) {
      const check = await runStep(step, bench, done);
      done.push(check);
      opts.onCheck?.(check);
    }
  } finally {
    await bench.cleanup();
  }
  return done;
}
