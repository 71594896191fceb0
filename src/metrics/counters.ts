/**
 * The message-path accounting (design.md "Measurements"). Plain numbers, summed across
 * workers; every sent message ends as delivered or lost for each of its recipients.
 */
export interface Counters {
  /** Operations the schedule called for, whether or not they ran. */
  scheduled: number;
  iterations: number;
  /** Scheduled operations that never ran: every virtual user was busy (the generator could not keep up). */
  droppedIterations: number;
  failedIterations: number;
  sent: number;
  acked: number;
  sendErrors: number;
  /** sent × recipients of each message: what delivered + lost must add up to. */
  expectedDeliveries: number;
  delivered: number;
  /** Not delivered by the end of the drain window. */
  lost: number;
  duplicated: number;
  /** Arrived with a lower seq than one already seen in the same conversation. */
  outOfOrder: number;
  /** Arrived after its phase had closed its books (counted lost there). */
  late: number;
  /** Stamped by no message of this run, or at a user it was not sent to. */
  unexpected: number;
  logins: number;
  loginErrors: number;
  connects: number;
  connectErrors: number;
  disconnects: number;
  /** Realtime channels the server closed for good (no reconnection brought them back). */
  connectionsDropped: number;
  httpRequests: number;
  httpErrors: number;
}

export type ErrorCounts = Record<string, number>;

export function emptyCounters(): Counters {
  return {
    scheduled: 0,
    iterations: 0,
    droppedIterations: 0,
    failedIterations: 0,
    sent: 0,
    acked: 0,
    sendErrors: 0,
    expectedDeliveries: 0,
    delivered: 0,
    lost: 0,
    duplicated: 0,
    outOfOrder: 0,
    late: 0,
    unexpected: 0,
    logins: 0,
    loginErrors: 0,
    connects: 0,
    connectErrors: 0,
    disconnects: 0,
    connectionsDropped: 0,
    httpRequests: 0,
    httpErrors: 0,
  };
}

export function addCounters(into: Counters, from: Counters): Counters {
  for (const key of Object.keys(into) as Array<keyof Counters>) into[key] += from[key];
  return into;
}

export function addErrors(into: ErrorCounts, from: ErrorCounts): ErrorCounts {
  for (const [code, n] of Object.entries(from)) into[code] = (into[code] ?? 0) + n;
  return into;
}

/** Errors named `protocol <kind>` are the server breaking the wire protocol (results' protocolErrors). */
export const PROTOCOL_ERROR_PREFIX = "protocol ";

/** A stable name for an error: OpenIM's errCode, a protocol or transport failure kind, or the error's class. */
export function errorCode(err: unknown): string {
  if (err && typeof err === "object") {
    const e = err as {
      errCode?: unknown;
      kind?: unknown;
      code?: unknown;
      name?: unknown;
      protocolError?: unknown;
    };
    if (typeof e.errCode === "number") return `errCode ${e.errCode}`;
    if (typeof e.protocolError === "string") return `${PROTOCOL_ERROR_PREFIX}${e.protocolError}`;
    if (typeof e.kind === "string") return `transport ${e.kind}`;
    if (typeof e.code === "string") return e.code;
    if (typeof e.name === "string" && e.name !== "Error") return e.name;
  }
  return "error";
}
