import { describe, expect, test } from "vitest";
import { redact } from "./redact.js";

describe("redact", () => {
  test("JWTs, token query values, bearer headers and passwords are removed; the rest stays", () => {
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJVc2VySUQiOiJhIn0.c2lnbmF0dXJlLXZhbHVl";
    const text = `token=${jwt} ws://h/msg_gateway?sendID=a&token=abc&platformID=3 Authorization: Bearer xyz.1 {"password":"pw1","userID":"alice"}`;
    const out = redact(text);
    expect(out).not.toContain(jwt);
    expect(out).not.toContain("token=abc");
    expect(out).not.toContain("xyz.1");
    expect(out).not.toContain("pw1");
    expect(out).toContain("sendID=a");
    expect(out).toContain('"userID":"alice"');
  });

  test("OpenIM's protobuf-text requests and any *token/*secret JSON key lose their values", () => {
    const line = String.raw`{"req": "secret:\"openIM123\" userID:\"imAdmin\"", "imToken": "abc.def", "userID": "u1"}`;
    const out = redact(line);
    expect(out).not.toContain("openIM123");
    expect(out).not.toContain("abc.def");
    expect(out).toContain('userID:\\"imAdmin\\"');
    expect(out).toContain('"userID": "u1"');
  });
});
