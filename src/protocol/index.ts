export {
  type AdminSendAck,
  type AdminSendParams,
  createGroup,
  forceLogout,
  type GroupInfo,
  getAdminToken,
  getUsersOnlineStatus,
  getUserToken,
  type IssuedToken,
  inviteToGroup,
  type NewGroup,
  type NewUser,
  type ParsedToken,
  parseToken,
  registerUsers,
  sendMsgAsAdmin,
  type UserOnlineStatus,
} from "./admin-api.js";
export { type ApiEnvelope, apiEnvelopeSchema, parseApiEnvelope } from "./api-envelope.js";
export { ContentType, decodeText, decodeTextContent, encodeTextContent } from "./content.js";
export {
  type ErrorOrigin,
  isTokenErrorCode,
  OPENIM_ERROR_NAMES,
  OpenImError,
  OpenImTransportError,
  openImErrorName,
  type ProtocolErrorKind,
  summarizeServerText,
  type TransportFailure,
} from "./errors.js";
export {
  conversationIDOf,
  groupConversationID,
  isLegalUserID,
  newClientMsgID,
  newOperationID,
  notificationConversationID,
  SessionType,
  singleConversationID,
  uniqueUserID,
} from "./ids.js";
export {
  buildTextMsg,
  emptyMsgData,
  type MsgData,
  MsgFrom,
  MsgStatus,
  type TextMsgParams,
} from "./msg-data.js";
export type { ReceivedMsg } from "./received.js";
export {
  type CallOptions,
  createRestClient,
  type RestClient,
  type RestClientOptions,
} from "./rest-client.js";
export { type CatchUpRange, SeqTracker } from "./seq-tracker.js";
export {
  type CloseInfo,
  type HeartbeatOptions,
  type NewestSeqs,
  OpenImWsClient,
  type OpenImWsConnectOptions,
  type OpenImWsEvents,
  type PullResult,
  type PushSource,
  type ReconnectOptions,
  type RequestOptions,
  type SendMsgResult,
  type SendTextParams,
  type SendTextResult,
  type SeqRangeRequest,
} from "./ws-client.js";
export { buildGatewayUrl, redactGatewayUrl } from "./ws-dial.js";
export {
  decodeRequestFrame,
  decodeResponseFrame,
  encodeRequestFrame,
  encodeResponseFrame,
  FrameDecodeError,
  ReqIdentifier,
  type WsRequest,
  type WsResponse,
  wsResponseSchema,
} from "./ws-frames.js";
