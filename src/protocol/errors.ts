/**
 * The two ways a call to OpenIM fails: the server answered with a non-zero errCode
 * (OpenImError), or no usable answer came back at all (OpenImTransportError).
 * Suites assert on errCode, so the two must never be confused.
 */

/** docs/openim-protocol.md §4 — server: pkg/common/servererrs/code.go, tools: errs/predefine.go. */
export const OPENIM_ERROR_NAMES: Readonly<Record<number, string>> = {
  500: "ServerInternalError",
  1000: "UnknownCode",
  1001: "ArgsError",
  1002: "NoPermissionError",
  1003: "DuplicateKeyError",
  1004: "RecordNotFoundError",
  1101: "UserIDNotFoundError",
  1102: "RegisteredAlreadyError",
  1201: "GroupIDNotFoundError",
  1202: "GroupIDExisted",
  1203: "NotInGroupYetError",
  1204: "DismissedAlreadyError",
  1205: "GroupTypeNotSupport",
  1206: "GroupRequestHandled",
  1301: "CanNotAddYourselfError",
  1302: "BlockedByPeer",
  1303: "NotPeersFriend",
  1304: "RelationshipAlreadyError",
  1305: "FriendRequestHandled",
  1401: "MessageHasReadDisable",
  1402: "MutedInGroup",
  1403: "MutedGroup",
  1404: "MsgAlreadyRevoke",
  1501: "TokenExpiredError",
  1502: "TokenInvalidError",
  1503: "TokenMalformedError",
  1504: "TokenNotValidYetError",
  1505: "TokenUnknownError",
  1506: "TokenKickedError",
  1507: "TokenNotExistError",
  1601: "ConnOverMaxNumLimit",
  1602: "ConnArgsErr",
  1603: "PushMsgErr",
  1604: "IOSBackgroundPushErr",
  1701: "FileUploadedExpiredError",
  80000: "CallbackError",
  90002: "DatabaseError",
  90004: "NetworkError",
  90007: "DataError",
};

export function openImErrorName(errCode: number): string | undefined {
  return OPENIM_ERROR_NAMES[errCode];
}

/** 1501–1507: the Go SDK stops reconnecting on these, and so does cutover's client. */
export function isTokenErrorCode(errCode: number): boolean {
  return errCode >= 1501 && errCode <= 1507;
}

/** Where a failure was observed; exactly one of route / reqIdentifier / handshake is usually set. */
export interface ErrorOrigin {
  route?: string;
  reqIdentifier?: number;
  handshake?: boolean;
  operationID?: string;
}

export interface OpenImErrorFields extends ErrorOrigin {
  errCode: number;
  errMsg: string;
  errDlt?: string;
}

function describeOrigin(origin: ErrorOrigin): string {
  if (origin.route !== undefined) return `POST /${origin.route.replace(/^\/+/, "")}`;
  if (origin.reqIdentifier !== undefined) return `ws request ${origin.reqIdentifier}`;
  if (origin.handshake) return "ws handshake";
  return "openim";
}

/**
 * OpenIM's errMsg/errDlt often hold a whole Go error chain — "Error: 1505 Error: 1505
 * signature is invalid: jwt parse error, token=<the token> | -> <stack>" — so a readable
 * message keeps the first link, without the stack or any token.
 */
export function summarizeServerText(text: string, max = 240): string {
  let s = text.split(" | -")[0] ?? text;
  s = s.replace(/^(?:Error: (?:\d+ )?)+/, "");
  s = s.replace(/token=[^\s|,)]+/g, "token=***").replace(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g, "***");
  s = s.replace(/\s+/g, " ").trim();
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

function readableDetail(fields: OpenImErrorFields, name: string | undefined): string {
  // errDlt usually carries the detail ("ArgsError: userID is legal"); errMsg is then just the name.
  const detail = summarizeServerText(fields.errDlt || fields.errMsg);
  if (!name) return detail;
  if (detail === name) return "";
  return detail.startsWith(`${name}: `) ? detail.slice(name.length + 2) : detail;
}

export class OpenImError extends Error {
  override readonly name = "OpenImError";
  readonly errCode: number;
  /** As the server sent it; may contain a Go stack trace and the offending token. */
  readonly errMsg: string;
  readonly errDlt: string;
  readonly route: string | undefined;
  readonly reqIdentifier: number | undefined;
  readonly handshake: boolean;
  readonly operationID: string | undefined;
  /** Set when the envelope came with an HTTP status other than 200 (e.g. 400 from gin's BindJSON). */
  readonly httpStatus: number | undefined;

  constructor(fields: OpenImErrorFields & { httpStatus?: number }) {
    const name = openImErrorName(fields.errCode);
    const detail = readableDetail(fields, name);
    const label = [name, detail].filter(Boolean).join(" — ");
    const op = fields.operationID ? ` [operationID ${fields.operationID}]` : "";
    super(`${describeOrigin(fields)} failed: errCode ${fields.errCode}${label ? ` ${label}` : ""}${op}`);
    this.errCode = fields.errCode;
    this.errMsg = fields.errMsg;
    this.errDlt = fields.errDlt ?? "";
    this.route = fields.route;
    this.reqIdentifier = fields.reqIdentifier;
    this.handshake = fields.handshake ?? false;
    this.operationID = fields.operationID;
    this.httpStatus = fields.httpStatus;
  }
}

export type TransportFailure =
  | "http-status" // a REST route or the ws upgrade answered with an unexpected HTTP status
  | "not-json" // the body was not JSON
  | "bad-envelope" // JSON, but not OpenIM's envelope shape
  | "bad-data" // envelope fine, data not the documented shape
  | "bad-frame" // a ws frame that does not decode
  | "timeout"
  | "network"
  | "closed"; // the ws connection closed while the call was pending

/**
 * What a broken or hostile server did wrong on the realtime channel, as a load run counts it
 * (results' protocolErrors). Timeouts and plain network failures are not protocol errors.
 */
export type ProtocolErrorKind =
  | "not-gzip" // compression=gzip, but the binary frame does not inflate
  | "gzip-bomb" // inflates past the client's bound
  | "not-json" // truncated JSON or binary garbage
  | "bad-envelope" // JSON with missing fields or wrong types
  | "bad-data" // the envelope's data is not the protobuf its reqIdentifier promises
  | "unknown-reqIdentifier" // a frame nobody asked for, with a reqIdentifier the client does not know
  | "mismatched-reply" // a reply whose reqIdentifier is not its request's
  | "unexpected-text" // a text frame other than a pong
  | "oversized-frame" // larger than the client accepts (the socket is closed with 1009)
  | "bad-ws-frame" // broken WebSocket framing (bad opcode, RSV bits, invalid UTF-8 text)
  | "closed-mid-request"; // the server closed the socket with requests in flight

export interface TransportErrorFields extends ErrorOrigin {
  kind: TransportFailure;
  message: string;
  status?: number;
  cause?: unknown;
  protocolError?: ProtocolErrorKind;
}

export class OpenImTransportError extends Error {
  override readonly name = "OpenImTransportError";
  readonly kind: TransportFailure;
  readonly status: number | undefined;
  readonly route: string | undefined;
  readonly reqIdentifier: number | undefined;
  readonly handshake: boolean;
  readonly operationID: string | undefined;
  /** Set when the server broke the protocol, as opposed to being slow or unreachable. */
  readonly protocolError: ProtocolErrorKind | undefined;

  constructor(fields: TransportErrorFields) {
    super(
      `${describeOrigin(fields)}: ${fields.message}`,
      fields.cause === undefined ? {} : { cause: fields.cause },
    );
    this.kind = fields.kind;
    this.status = fields.status;
    this.route = fields.route;
    this.reqIdentifier = fields.reqIdentifier;
    this.handshake = fields.handshake ?? false;
    this.operationID = fields.operationID;
    this.protocolError = fields.protocolError;
  }
}
