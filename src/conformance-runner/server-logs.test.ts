import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import type { CaseResult } from "./results.js";
import { serverErrorGroupSchema, serverErrorSchema } from "./results.js";
import { collectServerErrors, snapshotLogs } from "./server-logs.js";

// Real entries from a local stack's logs/openim/openim-service-log.<date> (OpenIM v3.8.3, remainLogLevel 6),
// byte for byte: colour codes, zap's padding, and the newline inside OpenIM's `[v3.8.3` version stamp.
const keysNotEven =
  '2026-12-07 18:07:05.523\t\u001b[31mERROR\u001b[0m\t\u001b[31m[PID:19754]    \u001b[0m\t\u001b[31mopenim-api               \u001b[0m\t[v3.8.3\n]                     \t[log/zap.go:479]                                  \tkeysAndValues length is not even                  \t{"platform": "Windows", "operationID": "cutover_467a0c88dd93_1j", "opUserID": "t_mxdl1ex7_467a0c88dd93_1g", "error": "Error: 500 ServerInternalError | -> log.(*ZapLogger).kvAppend() github.com/openimsdk/tools@v0.0.50-alpha.63/log/zap.go:137 -> log.(*ZapLogger).Debug() github.com/openimsdk/tools@v0.0.50-alpha.63/log/zap.go:424 -> log.ZDebug() github.com/openimsdk/tools@v0.0.50-alpha.63/log/zap.go:125 -> api.(*UserApi).GetUsersOnlineStatus() github.com/openimsdk/open-im-server/v3@v3.8.3/internal/api/user.go:94 -> gin.(*Context).Next() github.com/gin-gonic/gin@v1.9.1/context.go:175 -> api.newGinRouter.GinParseToken.func6() github.com/openimsdk/open-im-server/v3@v3.8.3/internal/api/router.go:317 -> gin.(*Context).Next() github.com/gin-gonic/gin@v1.9.1/context.go:175 -> api.newGinRouter.GinParseOperationID.func5() github.com/openimsdk/tools@v0.0.50-alpha.63/mw/gin.go:76 -> gin.(*Context).Next() github.com/gin-gonic/gin@v1.9.1/context.go:175 -> api.newGinRouter.CorsHandler.func4() github.com/openimsdk/tools@v0.0.50-alpha.63/mw/gin.go:60 -> gin.(*Context).Next() github.com/gin-gonic/gin@v1.9.1/context.go:174 -> gin.CustomRecoveryWithWriter.func1() github.com/gin-gonic/gin@v1.9.1/context.go:172 -> gin.(*Context).Next() github.com/gin-gonic/gin@v1.9.1/context.go:175 -> api.newGinRouter.prommetricsGin.func3() github.com/openimsdk/open-im-server/v3@v3.8.3/internal/api/router.go:46 -> gin.(*Context).Next() github.com/gin-gonic/gin@v1.9.1/context.go:174 -> gin.(*Engine).handleHTTPRequest() github.com/gin-gonic/gin@v1.9.1/context.go:172 -> gin.(*Engine).ServeHTTP() github.com/gin-gonic/gin@v1.9.1/gin.go:578 -> http.serverHandler.ServeHTTP() net/http/server.go:3312 -> http.(*conn).serve() net/http/server.go:2068"}\n';
const debugOnlineStatus =
  '2026-12-07 18:07:05.523\t\u001b[37mDEBUG\u001b[0m\t\u001b[37m[PID:19754]    \u001b[0m\t\u001b[37mopenim-api               \u001b[0m\t[v3.8.3\n]                     \t[api/user.go:94]                                  \tGetUsersOnlineStatus rpc error                    \t{"platform": "Windows", "operationID": "cutover_467a0c88dd93_1j", "opUserID": "t_mxdl1ex7_467a0c88dd93_1g", "error": "Error: 1002 Error: 1002 NoPermissionError: only app manager | -> msggateway.(*Server).GetUsersOnlineStatus() github.com/openimsdk/open-im-server/v3@v3.8.3/internal/msggateway/hub_server.go:94 -> msggateway._MsgGateway_GetUsersOnlineStatus_Handler.func1() github.com/openimsdk/protocol@v0.0.72-alpha.70/msggateway/msggateway_grpc.pb.go:214 -> mw.RpcServerInterceptor() github.com/openimsdk/tools@v0.0.50-alpha.63/mw/rpc_server_interceptor.go:40 -> msggateway._MsgGateway_GetUsersOnlineStatus_Handler() github.com/openimsdk/protocol@v0.0.72-alpha.70/msggateway/msggateway_grpc.pb.go:216 -> grpc.(*Server).processUnaryRPC() google.golang.org/grpc@v1.68.0/server.go:1394 -> grpc.(*Server).handleStream() google.golang.org/grpc@v1.68.0/server.go:1806 -> grpc.(*Server).serveStreams.func2.1() google.golang.org/grpc@v1.68.0/server.go:1030 | -> mw.RpcClientInterceptor() github.com/openimsdk/tools@v0.0.50-alpha.63/mw/rpc_client_interceptor.go:72 -> grpc.(*ClientConn).Invoke() google.golang.org/grpc@v1.68.0/call.go:35 -> msggateway.(*msgGatewayClient).GetUsersOnlineStatus() github.com/openimsdk/protocol@v0.0.72-alpha.70/msggateway/msggateway_grpc.pb.go:78 -> api.(*UserApi).GetUsersOnlineStatus() github.com/openimsdk/open-im-server/v3@v3.8.3/internal/api/user.go:93 -> gin.(*Context).Next() github.com/gin-gonic/gin@v1.9.1/context.go:175 -> api.newGinRouter.GinParseToken.func6() github.com/openimsdk/open-im-server/v3@v3.8.3/internal/api/router.go:317 -> gin.(*Context).Next() github.com/gin-gonic/gin@v1.9.1/context.go:175 -> api.newGinRouter.GinParseOperationID.func5() github.com/openimsdk/tools@v0.0.50-alpha.63/mw/gin.go:76 -> gin.(*Context).Next() github.com/gin-gonic/gin@v1.9.1/context.go:175 -> api.newGinRouter.CorsHandler.func4() github.com/openimsdk/tools@v0.0.50-alpha.63/mw/gin.go:60 -> gin.(*Context).Next() github.com/gin-gonic/gin@v1.9.1/context.go:174 -> gin.CustomRecoveryWithWriter.func1() github.com/gin-gonic/gin@v1.9.1/context.go:172 -> gin.(*Context).Next() github.com/gin-gonic/gin@v1.9.1/context.go:175 -> api.newGinRouter.prommetricsGin.func3() github.com/openimsdk/open-im-server/v3@v3.8.3/internal/api/router.go:46 -> gin.(*Context).Next() github.com/gin-gonic/gin@v1.9.1/context.go:174 -> gin.(*Engine).handleHTTPRequest() github.com/gin-gonic/gin@v1.9.1/context.go:172 -> gin.(*Engine).ServeHTTP() github.com/gin-gonic/gin@v1.9.1/gin.go:578 -> http.serverHandler.ServeHTTP() net/http/server.go:3312 -> http.(*conn).serve() net/http/server.go:2068"}\n';
const isBlack =
  '2026-12-07 18:04:36.799\t\u001b[31mERROR\u001b[0m\t\u001b[31m[PID:15973]    \u001b[0m\t\u001b[31mopenim-rpc-msg           \u001b[0m\t[v3.8.3\n]                     \t[rpccache/friend.go:93]                           \tFriendLocalCache isBlack return                   \t{"platform": "Windows", "connID": "87bb9245ef98cab8c5c95fd310edc815", "operationID": "cutover_48ac6a1168c1_e5", "opUserID": "t_mxdky87x_48ac6a1168c1_dx", "possibleBlackUserID": "t_mxdky87x_48ac6a1168c1_dx", "userID": "", "error": "Error: 1001 Error: 1001 ArgsError: userID2 is empty | -> checker.Validate() github.com/openimsdk/tools@v0.0.50-alpha.63/checker/check.go:29 -> mw.RpcServerInterceptor() github.com/openimsdk/tools@v0.0.50-alpha.63/mw/rpc_server_interceptor.go:37 -> relation._Friend_IsBlack_Handler() github.com/openimsdk/protocol@v0.0.72-alpha.70/relation/relation_grpc.pb.go:726 -> grpc.(*Server).processUnaryRPC() google.golang.org/grpc@v1.68.0/server.go:1394 -> grpc.(*Server).handleStream() google.golang.org/grpc@v1.68.0/server.go:1806 -> grpc.(*Server).serveStreams.func2.1() google.golang.org/grpc@v1.68.0/server.go:1030 | -> mw.RpcClientInterceptor() github.com/openimsdk/tools@v0.0.50-alpha.63/mw/rpc_client_interceptor.go:72 -> grpc.(*ClientConn).Invoke() google.golang.org/grpc@v1.68.0/call.go:35 -> relation.(*friendClient).IsBlack() github.com/openimsdk/protocol@v0.0.72-alpha.70/relation/relation_grpc.pb.go:221 -> rpccache.(*FriendLocalCache).isBlack.func2() github.com/openimsdk/open-im-server/v3@v3.8.3/pkg/rpccache/common.go:62 -> localcache.(*cache[...]).GetLink.func1() github.com/openimsdk/open-im-server/v3@v3.8.3/pkg/localcache/cache.go:109 -> lru.(*LayLRU[...]).Get() github.com/openimsdk/open-im-server/v3@v3.8.3/pkg/localcache/lru/lru_lazy.go:80 -> lru.(*slotLRU[...]).Get() github.com/openimsdk/open-im-server/v3@v3.8.3/pkg/localcache/lru/lru_slot.go:63 -> localcache.(*cache[...]).GetLink() github.com/openimsdk/open-im-server/v3@v3.8.3/pkg/localcache/cache.go:105 -> rpccache.(*FriendLocalCache).isBlack() github.com/openimsdk/open-im-server/v3@v3.8.3/pkg/rpccache/friend.go:97 -> rpccache.(*FriendLocalCache).IsBlack() github.com/openimsdk/open-im-server/v3@v3.8.3/pkg/rpccache/friend.go:79 -> msg.(*msgServer).messageVerification() github.com/openimsdk/open-im-server/v3@v3.8.3/internal/rpc/msg/verify.go:65 -> msg.(*msgServer).sendMsgSingleChat() github.com/openimsdk/open-im-server/v3@v3.8.3/internal/rpc/msg/send.go:155 -> msg.(*msgServer).SendMsg() github.com/openimsdk/open-im-server/v3@v3.8.3/internal/rpc/msg/send.go:39 -> msg._Msg_SendMsg_Handler.func1() github.com/openimsdk/protocol@v0.0.72-alpha.70/msg/msg_grpc.pb.go:817 -> mw.RpcServerInterceptor() github.com/openimsdk/tools@v0.0.50-alpha.63/mw/rpc_server_interceptor.go:40 -> msg._Msg_SendMsg_Handler() github.com/openimsdk/protocol@v0.0.72-alpha.70/msg/msg_grpc.pb.go:819 -> grpc.(*Server).processUnaryRPC() google.golang.org/grpc@v1.68.0/server.go:1394 -> grpc.(*Server).handleStream() google.golang.org/grpc@v1.68.0/server.go:1806 -> grpc.(*Server).serveStreams.func2.1() google.golang.org/grpc@v1.68.0/server.go:1030"}\n';
const getConversationError =
  '2026-12-07 18:04:33.333\t\u001b[31mERROR\u001b[0m\t\u001b[31m[PID:15973]    \u001b[0m\t\u001b[31mopenim-rpc-msg           \u001b[0m\t[v3.8.3\n]                     \t[msg/sync_msg.go:39]                              \tGetConversation error                             \t{"platform": "Windows", "connID": "97a89a09298d86a58377a887d91172c2", "operationID": "cutover_48ac6a1168c1_6s", "opUserID": "t_mxdky5gt_48ac6a1168c1_6g", "conversationID": "si_t_mxdky5gt_48ac6a1168c1_6e_t_mxdky5gt_48ac6a1168c1_6f", "error": "Error: 1004 Error: 1004 RecordNotFoundError: conversation not found | -> conversation.(*conversationServer).GetConversation() github.com/openimsdk/open-im-server/v3@v3.8.3/internal/rpc/conversation/conversation.go:112 -> conversation._Conversation_GetConversation_Handler.func1() github.com/openimsdk/protocol@v0.0.72-alpha.70/conversation/conversation_grpc.pb.go:484 -> mw.RpcServerInterceptor() github.com/openimsdk/tools@v0.0.50-alpha.63/mw/rpc_server_interceptor.go:40 -> conversation._Conversation_GetConversation_Handler() github.com/openimsdk/protocol@v0.0.72-alpha.70/conversation/conversation_grpc.pb.go:486 -> grpc.(*Server).processUnaryRPC() google.golang.org/grpc@v1.68.0/server.go:1394 -> grpc.(*Server).handleStream() google.golang.org/grpc@v1.68.0/server.go:1806 -> grpc.(*Server).serveStreams.func2.1() google.golang.org/grpc@v1.68.0/server.go:1030 | -> mw.RpcClientInterceptor() github.com/openimsdk/tools@v0.0.50-alpha.63/mw/rpc_client_interceptor.go:72 -> grpc.(*ClientConn).Invoke() google.golang.org/grpc@v1.68.0/call.go:35 -> conversation.(*conversationClient).GetConversation() github.com/openimsdk/protocol@v0.0.72-alpha.70/conversation/conversation_grpc.pb.go:104 -> rpcli.extractField[...]() github.com/openimsdk/open-im-server/v3@v3.8.3/pkg/rpcli/tool.go:10 -> rpcli.(*ConversationClient).GetConversation() github.com/openimsdk/open-im-server/v3@v3.8.3/pkg/rpcli/conversation.go:55 -> rpccache.(*ConversationLocalCache).GetConversation.func2() github.com/openimsdk/open-im-server/v3@v3.8.3/pkg/rpccache/common.go:62 -> localcache.(*cache[...]).GetLink.func1() github.com/openimsdk/open-im-server/v3@v3.8.3/pkg/localcache/cache.go:109 -> lru.(*LayLRU[...]).Get() github.com/openimsdk/open-im-server/v3@v3.8.3/pkg/localcache/lru/lru_lazy.go:80 -> lru.(*slotLRU[...]).Get() github.com/openimsdk/open-im-server/v3@v3.8.3/pkg/localcache/lru/lru_slot.go:63 -> localcache.(*cache[...]).GetLink() github.com/openimsdk/open-im-server/v3@v3.8.3/pkg/localcache/cache.go:105 -> localcache.(*cache[...]).Get() github.com/openimsdk/open-im-server/v3@v3.8.3/pkg/localcache/cache.go:100 -> rpccache.(*ConversationLocalCache).GetConversation() github.com/openimsdk/open-im-server/v3@v3.8.3/pkg/rpccache/conversation.go:93 -> msg.(*msgServer).PullMessageBySeqs() github.com/openimsdk/open-im-server/v3@v3.8.3/internal/rpc/msg/sync_msg.go:38 -> msg._Msg_PullMessageBySeqs_Handler.func1() github.com/openimsdk/protocol@v0.0.72-alpha.70/msg/msg_grpc.pb.go:763 -> mw.RpcServerInterceptor() github.com/openimsdk/tools@v0.0.50-alpha.63/mw/rpc_server_interceptor.go:40 -> msg._Msg_PullMessageBySeqs_Handler() github.com/openimsdk/protocol@v0.0.72-alpha.70/msg/msg_grpc.pb.go:765 -> grpc.(*Server).processUnaryRPC() google.golang.org/grpc@v1.68.0/server.go:1394 -> grpc.(*Server).handleStream() google.golang.org/grpc@v1.68.0/server.go:1806 -> grpc.(*Server).serveStreams.func2.1() google.golang.org/grpc@v1.68.0/server.go:1030"}\n';
const secretInvalidWarn =
  '2026-12-07 18:05:57.286\t\u001b[33mWARN\u001b[0m\t\u001b[33m[PID:15942]    \u001b[0m\t\u001b[33mopenim-rpc-auth          \u001b[0m\t[v3.8.3\n]                     \t[mw/rpc_server_interceptor.go:93]                 \trpc server response failed                        \t{"operationID": "cutover_303bcced5fb4_1h", "method": "/openim.auth.Auth/getAdminToken", "req": "secret:\\"not-the-secret\\" userID:\\"imAdmin\\"", "error": "Error: 1002 NoPermissionError: secret invalid | -> auth.(*authServer).GetAdminToken() github.com/openimsdk/open-im-server/v3@v3.8.3/internal/rpc/auth/auth.go:84 -> auth._Auth_GetAdminToken_Handler.func1() github.com/openimsdk/protocol@v0.0.72-alpha.70/auth/auth_grpc.pb.go:208 -> mw.RpcServerInterceptor() github.com/openimsdk/tools@v0.0.50-alpha.63/mw/rpc_server_interceptor.go:40 -> auth._Auth_GetAdminToken_Handler() github.com/openimsdk/protocol@v0.0.72-alpha.70/auth/auth_grpc.pb.go:210 -> grpc.(*Server).processUnaryRPC() google.golang.org/grpc@v1.68.0/server.go:1394 -> grpc.(*Server).handleStream() google.golang.org/grpc@v1.68.0/server.go:1806 -> grpc.(*Server).serveStreams.func2.1() google.golang.org/grpc@v1.68.0/server.go:1030"}\n';
const infoLine =
  '2026-12-07 18:06:49.361\t\u001b[34mINFO\u001b[0m\t\u001b[34m[PID:19754]    \u001b[0m\t\u001b[34mopenim-api               \u001b[0m\t[v3.8.3\n]                     \t[mw/rpc_client_interceptor.go:48]                 \trpc client request                                \t{"operationID": "x", "method": "/openim.auth.Auth/getAdminToken", "target": "etcd:///openim/auth", "req": "secret:\\"openIM123\\" userID:\\"imAdmin\\""}\n';
const tokenResp =
  '2026-12-07 18:06:49.365\t\u001b[34mINFO\u001b[0m\t\u001b[34m[PID:19754]    \u001b[0m\t\u001b[34mopenim-api               \u001b[0m\t[v3.8.3\n]                     \t[mw/rpc_client_interceptor.go:51]                 \trpc client response success                       \t{"operationID": "x", "method": "/openim.auth.Auth/getAdminToken", "resp": "token:\\"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJVc2VySUQiOiJpbUFkbWluIiwiUGxhdGZvcm1JRCI6MTAsImV4cCI6MTgwNDQ0MjgwOSwiaWF0IjoxNzk2NjY2ODA0fQ.5ecEEBTURQJntupQnHAppsDsofInUj6vc0yU8DzEgrA\\" expireTimeSeconds:7776000"}\n';

function stack() {
  const runDir = mkdtempSync(path.join(os.tmpdir(), "cutover-logs-"));
  mkdirSync(path.join(runDir, "logs", "openim"), { recursive: true });
  return {
    runDir,
    openimLog: path.join(runDir, "logs", "openim", "openim-service-log.2026-12-07"),
    log: (name: string) => path.join(runDir, "logs", `${name}.log`),
  };
}

/** The same real entry logged at another time (OpenIM writes local time, no zone). */
const loggedAt = (entry: string, time: string) => entry.replace(/^\S+ \S+/, `2026-12-07 ${time}`);
const withOperationID = (entry: string, id: string) =>
  entry.replace(/"operationID": "[^"]*"/, `"operationID": "${id}"`);
const localMs = (time: string) => new Date(`2026-12-07T${time}`).getTime();

function ranCase(fullName: string, from: string, durationMs: number, provokes?: string[]): CaseResult {
  return {
    suite: "s",
    name: fullName,
    fullName,
    state: "passed",
    durationMs,
    startedAt: localMs(from),
    provokes,
  };
}

describe("the server's own view of a run", () => {
  test("only failures logged after the snapshot are collected, named by process and by the case running then", async () => {
    const { runDir, openimLog, log } = stack();
    writeFileSync(openimLog, loggedAt(getConversationError, "10:00:00.000"));
    writeFileSync(log("mongo"), "mongo-standin listening\n");
    const snapshot = snapshotLogs(runDir);
    appendFileSync(openimLog, loggedAt(isBlack, "10:00:05.000"));
    appendFileSync(openimLog, loggedAt(secretInvalidWarn, "10:00:05.100"));
    appendFileSync(log("mongo"), "java.lang.IllegalStateException: Unexpected missing value\n");
    const { errors } = await collectServerErrors(runDir, snapshot, [
      ranCase("s a", "10:00:04.500", 1000),
      ranCase("s b", "10:00:00.000", 1000),
    ]);
    expect(errors).toHaveLength(2);
    expect(errors.find((e) => e.process === "openim-rpc-msg")).toMatchObject({
      duringCase: "s a",
      message: "FriendLocalCache isBlack return",
    });
    expect(errors.find((e) => e.process === "mongo")?.line).toContain("Unexpected missing value");
  });

  test("a real OpenIM entry is read whole: time, level, process, caller, message and key/values", async () => {
    const { runDir, openimLog } = stack();
    const snapshot = snapshotLogs(runDir);
    writeFileSync(openimLog, [debugOnlineStatus, keysNotEven, infoLine, secretInvalidWarn, isBlack].join(""));
    const { errors } = await collectServerErrors(runDir, snapshot, []);
    // In log time order: isBlack was logged at 18:04:36, the other at 18:07:05.
    expect(errors.map((e) => e.message)).toEqual([
      "FriendLocalCache isBlack return",
      "keysAndValues length is not even",
    ]);
    const [black, notEven] = errors;
    expect(notEven).toMatchObject({
      process: "openim-api",
      at: "2026-12-07 18:07:05.523",
      level: "ERROR",
      caller: "log/zap.go:479",
      fields: { operationID: "cutover_467a0c88dd93_1j", opUserID: "t_mxdl1ex7_467a0c88dd93_1g" },
    });
    expect(notEven!.fields!.error).toMatch(
      /^Error: 500 ServerInternalError \| -> log\.\(\*ZapLogger\)\.kvAppend\(\)/,
    );
    expect(notEven!.line).toMatch(
      /^2026-12-07 18:07:05\.523 ERROR \[PID:19754\] openim-api \[v3\.8\.3\] \[log\/zap\.go:479\] keysAndValues length is not even \{"platform": "Windows"/,
    );
    expect(black).toMatchObject({
      process: "openim-rpc-msg",
      caller: "rpccache/friend.go:93",
      fields: { possibleBlackUserID: "t_mxdky87x_48ac6a1168c1_dx", userID: "" },
    });
    expect(black!.fields!.error).toContain("ArgsError: userID2 is empty");
    for (const e of errors) {
      expect(e.line).not.toContain("\u001b");
      expect(e.line.length).toBeLessThanOrEqual(4096);
      expect(serverErrorSchema.parse(e)).toEqual(e);
    }
  });

  test("every failure after the snapshot is found however much was logged: 10 MiB at debug level", async () => {
    const { runDir, openimLog } = stack();
    writeFileSync(openimLog, debugOnlineStatus);
    const snapshot = snapshotLogs(runDir);
    const filler = [debugOnlineStatus, infoLine, secretInvalidWarn].join("");
    const chunk = filler.repeat(Math.ceil((1024 * 1024) / filler.length));
    appendFileSync(openimLog, withOperationID(keysNotEven, "op-first"));
    for (let mib = 0; mib < 10; mib += 1) appendFileSync(openimLog, chunk);
    for (const id of ["op-end-1", "op-end-2", "op-end-3"]) {
      appendFileSync(openimLog, withOperationID(keysNotEven, id));
      appendFileSync(openimLog, chunk.slice(0, 50_000).replace(/[^\n]*$/, ""));
    }
    appendFileSync(openimLog, withOperationID(loggedAt(isBlack, "18:08:00.000"), "op-last"));
    const { errors } = await collectServerErrors(runDir, snapshot, []);
    expect(errors.map((e) => e.fields?.operationID)).toEqual([
      "op-first",
      "op-end-1",
      "op-end-2",
      "op-end-3",
      "op-last",
    ]);
  });

  test("a plain log line cut by the snapshot is left out, though its tail reads like a failure", async () => {
    const { runDir, log } = stack();
    const old = "2026-12-07T10:00:00.000Z gateway: upstream answered ERROR 500 to /api/user/get_users_info\n";
    writeFileSync(log("gateway"), old.slice(0, 40));
    const snapshot = snapshotLogs(runDir);
    appendFileSync(log("gateway"), old.slice(40));
    appendFileSync(log("gateway"), "2026-12-07T10:00:01.000Z gateway: webhook ERROR: OpenIM unreachable\n");
    const { errors } = await collectServerErrors(runDir, snapshot, []);
    expect(errors.map((e) => e.message)).toEqual(["gateway: webhook ERROR: OpenIM unreachable"]);
  });

  test("an entry cut by the snapshot, or still being written, yields nothing rather than a fragment", async () => {
    const { runDir, openimLog } = stack();
    const before = loggedAt(isBlack, "10:00:00.000");
    // Snapshot inside an entry's first line, then inside the OpenIM entry that spans two lines.
    writeFileSync(openimLog, before.slice(0, 40));
    const midLine = snapshotLogs(runDir);
    appendFileSync(openimLog, before.slice(40));
    const split = before.indexOf("\n") + 1;
    appendFileSync(openimLog, before.slice(0, split));
    const betweenLines = snapshotLogs(runDir);
    appendFileSync(openimLog, before.slice(split));
    appendFileSync(openimLog, loggedAt(getConversationError, "10:00:01.000"));
    // A server still writing: only part of its next entry is on disk.
    const next = loggedAt(keysNotEven, "10:00:02.000");
    appendFileSync(openimLog, next.slice(0, next.length - 300));

    for (const snapshot of [midLine, betweenLines]) {
      const { errors } = await collectServerErrors(runDir, snapshot, []);
      expect(errors.slice(-1).map((e) => e.message)).toEqual(["GetConversation error"]);
      for (const e of errors) expect(e.line).toMatch(/^2026-12-07 10:00:0\d\.000 ERROR \[PID:\d+\] openim-/);
    }
    expect((await collectServerErrors(runDir, betweenLines, [])).errors).toHaveLength(1);

    appendFileSync(openimLog, next.slice(next.length - 300));
    const { errors } = await collectServerErrors(runDir, betweenLines, []);
    expect(errors.map((e) => e.message)).toEqual([
      "GetConversation error",
      "keysAndValues length is not even",
    ]);
    expect(errors[1]!.line).toMatch(/http\.\(\*conn\)\.serve\(\) net\/http\/server\.go:2068"\}$/);
  });

  test("failures are grouped by message, ids and numbers aside: count, processes, first and last, one example", async () => {
    const { runDir, openimLog, log } = stack();
    const snapshot = snapshotLogs(runDir);
    const fromPush = isBlack.replace("openim-rpc-msg           ", "openim-push              ");
    writeFileSync(
      openimLog,
      [
        withOperationID(loggedAt(isBlack, "10:00:03.000"), "op-a"),
        withOperationID(loggedAt(keysNotEven, "10:00:01.000"), "op-b"),
        withOperationID(loggedAt(isBlack, "10:00:01.500"), "op-c"),
        withOperationID(loggedAt(fromPush, "10:00:02.000"), "op-d"),
        withOperationID(loggedAt(isBlack, "10:00:09.250"), "op-e"),
        withOperationID(loggedAt(keysNotEven, "10:00:04.000"), "op-f"),
      ].join(""),
    );
    writeFileSync(
      log("mongo"),
      [
        "2026-12-07T10:00:01.000+0000 ERROR MongoBackend - no cursor 1796666665856 for conn 17",
        "2026-12-07T10:00:02.000+0000 ERROR MongoBackend - no cursor 42 for conn 3",
        "2026-12-07T10:00:02.500+0000 ERROR MongoBackend - no cursor 7 for conn 3",
        "",
      ].join("\n"),
    );
    const { groups } = await collectServerErrors(runDir, snapshot, []);
    expect(groups.map((g) => [g.message, g.count, g.processes])).toEqual([
      ["FriendLocalCache isBlack return", 4, ["openim-push", "openim-rpc-msg"]],
      ["MongoBackend - no cursor 1796666665856 for conn 17", 3, ["mongo"]],
      ["keysAndValues length is not even", 2, ["openim-api"]],
    ]);
    const [black, mongo] = groups;
    expect(black).toMatchObject({
      first: "2026-12-07 10:00:01.500",
      last: "2026-12-07 10:00:09.250",
      unexplainedCount: 4,
      provokedCount: 0,
    });
    expect(black!.example).toContain("FriendLocalCache isBlack return");
    expect(mongo!.messageKey).toBe("MongoBackend - no cursor # for conn #");
    for (const g of groups) expect(serverErrorGroupSchema.parse(g)).toEqual(g);
  });

  test("an error a running case says it provokes is explained by it; the rest are unexplained", async () => {
    const { runDir, openimLog } = stack();
    const snapshot = snapshotLogs(runDir);
    const refusing =
      "refused sends > a message with empty recvID in a single chat is refused with 1001 ArgsError";
    const parallel = "fan-out > a send to an unknown groupID is refused with 1004";
    const cases = [
      ranCase(refusing, "10:00:05.000", 300, [
        "FriendLocalCache isBlack return",
        "ArgsError: userID2 is empty",
      ]),
      ranCase(parallel, "10:00:05.100", 500),
    ];
    writeFileSync(
      openimLog,
      [
        loggedAt(isBlack, "10:00:05.200"), // while the case ran
        loggedAt(isBlack, "10:00:05.700"), // just after it ended: the server logs after answering
        loggedAt(getConversationError, "10:00:05.250"), // while it ran, but not what it provokes
        loggedAt(isBlack, "10:00:09.000"), // no case running
      ].join(""),
    );
    const { errors, groups } = await collectServerErrors(runDir, snapshot, cases);
    expect(errors.map((e) => [e.at?.slice(11), e.message, e.explainedBy])).toEqual([
      ["10:00:05.200", "FriendLocalCache isBlack return", refusing],
      ["10:00:05.250", "GetConversation error", undefined],
      ["10:00:05.700", "FriendLocalCache isBlack return", refusing],
      ["10:00:09.000", "FriendLocalCache isBlack return", undefined],
    ]);
    expect(errors[0]!.duringCase).toBe(`${parallel} — or — ${refusing}`);
    expect(groups.map((g) => [g.message, g.provokedCount, g.unexplainedCount])).toEqual([
      ["FriendLocalCache isBlack return", 2, 1],
      ["GetConversation error", 0, 1],
    ]);
  });

  test("tokens and secrets the servers logged never reach the results", async () => {
    const { runDir, openimLog, log } = stack();
    const snapshot = snapshotLogs(runDir);
    // Real INFO entries of openim-api (an admin-token request and its answer), as if the call had failed.
    const asError = (entry: string) => entry.replace("INFO", "ERROR");
    writeFileSync(openimLog, [asError(infoLine), asError(tokenResp)].join(""));
    writeFileSync(
      log("gateway"),
      'ERROR login failed {"imToken": "abc123secretish", "password": "hunter2"} Bearer abc.def.ghi ?token=qwerty\n',
    );
    const { errors, groups } = await collectServerErrors(runDir, snapshot, []);
    expect(errors).toHaveLength(3);
    const everything = JSON.stringify({ errors, groups });
    for (const secret of ["openIM123", "eyJhbGci", "abc123secretish", "hunter2", "abc.def.ghi", "qwerty"]) {
      expect(everything).not.toContain(secret);
    }
    expect(errors[0]!.fields?.req).toBe('secret:"<redacted>" userID:"imAdmin"');
    expect(errors[1]!.fields?.resp).toBe('token:"<redacted>" expireTimeSeconds:7776000');
  });

  test("other logs: a Java exception with its trace and a Go panic count once each, with their time when written", async () => {
    const { runDir, log } = stack();
    const snapshot = snapshotLogs(runDir);
    writeFileSync(
      log("mongo"),
      [
        "2026-12-07T10:00:01.000+0000 INFO MongoServer - connection accepted",
        "2026-12-07T10:00:02.000+0000 ERROR MongoWireProtocolHandler - failed to handle query",
        "java.lang.IllegalStateException: Unexpected missing value",
        "\tat de.bwaldvogel.mongo.backend.Utils.getSubdocumentValue(Utils.java:120)",
        "\tat de.bwaldvogel.mongo.backend.AbstractMongoCollection.handleUpdate(AbstractMongoCollection.java:385)",
        "",
      ].join("\n"),
    );
    writeFileSync(
      log("openim-api"),
      [
        "panic: runtime error: invalid memory address or nil pointer dereference",
        "",
        "goroutine 1 [running]:",
        "main.main()",
        "\t/src/cmd/openim-api/main.go:12 +0x1d",
        "",
      ].join("\n"),
    );
    const { errors } = await collectServerErrors(runDir, snapshot, []);
    expect(errors.map((e) => [e.process, e.level, e.at, e.message])).toEqual([
      ["mongo", "ERROR", "2026-12-07T10:00:02.000+0000", "MongoWireProtocolHandler - failed to handle query"],
      [
        "openim-api",
        "PANIC",
        undefined,
        "panic: runtime error: invalid memory address or nil pointer dereference",
      ],
    ]);
    expect(errors[0]!.line).toContain("IllegalStateException: Unexpected missing value at de.bwaldvogel");
  });
});
