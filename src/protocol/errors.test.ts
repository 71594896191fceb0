import { describe, expect, it } from "vitest";
import { OpenImError, OpenImTransportError, summarizeServerText } from "./errors.js";

// Shapes observed from the real v3.8.3 server (tokens replaced).
const RPC_ERR_MSG =
  "Error: 1505 signature is invalid: jwt parse error, token=eyJhbGciOi.eyJVc2VySUQi.k6SlP_qh | -> tokenverify.GetClaimFromToken() github.com/openimsdk/tools@v0.0.50-alpha.63/tokenverify/jwt_token.go:57 -> auth.(*authServer).parseToken()";
const LOCAL_ERR_DLT =
  "Error: 1001 ArgsError: userID is legal | -> checker.Validate() github.com/openimsdk/tools@v0.0.50-alpha.63/checker/check.go:29";

describe("summarizeServerText", () => {
  it("keeps the first link of a Go error chain, without stack or token", () => {
    expect(summarizeServerText(RPC_ERR_MSG)).toBe("signature is invalid: jwt parse error, token=***");
    expect(
      summarizeServerText("Error: 1004 Error: Error: mongo: no documents in result: mongo find one | -> x"),
    ).toBe("mongo: no documents in result: mongo find one");
    expect(summarizeServerText("x".repeat(500)).length).toBeLessThan(260);
  });
});

describe("OpenImError", () => {
  it("reads well for an RPC error whose errMsg is the whole chain", () => {
    const e = new OpenImError({
      errCode: 1505,
      errMsg: RPC_ERR_MSG,
      errDlt: `Error: 1505 ${RPC_ERR_MSG}`,
      handshake: true,
      operationID: "op",
    });
    expect(e.message).toBe(
      "ws handshake failed: errCode 1505 TokenUnknownError — signature is invalid: jwt parse error, token=*** [operationID op]",
    );
    expect(e.errMsg).toBe(RPC_ERR_MSG); // raw fields stay as sent
  });

  it("uses errDlt when errMsg is only the code name", () => {
    const e = new OpenImError({
      errCode: 1001,
      errMsg: "ArgsError",
      errDlt: LOCAL_ERR_DLT,
      route: "/user/user_register",
    });
    expect(e.message).toBe("POST /user/user_register failed: errCode 1001 ArgsError — userID is legal");
  });

  it("names the ws request and falls back for unknown codes", () => {
    const e = new OpenImError({ errCode: 4242, errMsg: "odd", reqIdentifier: 1003 });
    expect(e.message).toBe("ws request 1003 failed: errCode 4242 odd");
    expect(new OpenImError({ errCode: 1506, errMsg: "TokenKickedError" }).message).toBe(
      "openim failed: errCode 1506 TokenKickedError",
    );
  });
});

describe("OpenImTransportError", () => {
  it("prefixes the origin", () => {
    const e = new OpenImTransportError({
      kind: "http-status",
      status: 502,
      route: "auth/get_admin_token",
      message: "HTTP 502",
    });
    expect(e.message).toBe("POST /auth/get_admin_token: HTTP 502");
    expect(e.kind).toBe("http-status");
  });
});
