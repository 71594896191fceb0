import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getAdminToken, getUserToken, registerUsers, sendMsgAsAdmin } from "./admin-api.js";
import { OpenImError, OpenImTransportError } from "./errors.js";
import { createRestClient, type RestClient } from "./rest-client.js";

interface Seen {
  url: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

// Answers in OpenIM's shapes, keyed by route; records what it was sent.
const seen: Seen[] = [];
const routes: Record<
  string,
  (body: unknown) => { status?: number; headers?: Record<string, string>; body: string | Buffer }
> = {
  "/auth/get_admin_token": () => ok({ token: "admintoken", expireTimeSeconds: 7776000 }),
  "/auth/get_user_token": () => ok({ token: 42 }), // wrong shape on purpose
  "/user/user_register": () => ({ body: JSON.stringify({ errCode: 0, errMsg: "", errDlt: "" }) }),
  "/msg/send_msg": () => ok({ serverMsgID: "s1", clientMsgID: "c1", sendTime: 1700000000000 }),
  "/group/get_groups_info": () => ({
    body: JSON.stringify({ errCode: 1004, errMsg: "RecordNotFoundError", errDlt: "group not found" }),
  }),
  "/not/json": () => ({ body: "<html>oops</html>" }),
  "/not/envelope": () => ({ body: '{"hello":"world"}' }),
  "/bad/status": () => ({ status: 502, body: "<html>Bad Gateway</html>" }),
  // gin BindJSON on a malformed body (observed on the real server for msg/send_msg)
  "/msg/bad_body": () => ({
    status: 400,
    body: JSON.stringify({
      errCode: 1001,
      errMsg: "ArgsError",
      errDlt: "invalid character 'n' looking for beginning of object key string",
    }),
  }),
  "/gzipped": () => ({
    headers: { "content-encoding": "gzip" },
    body: gzipSync(JSON.stringify({ errCode: 0, errMsg: "", errDlt: "", data: { z: 1 } })),
  }),
  "/slow": () => ({ body: "" }),
};

function ok(data: unknown): { body: string } {
  return { body: JSON.stringify({ errCode: 0, errMsg: "", errDlt: "", data }) };
}

let server: Server;
let rest: RestClient;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8") || "null");
      const path = (req.url ?? "").replace(/^\/prefix/, "");
      seen.push({ url: req.url ?? "", headers: req.headers, body });
      if (path === "/slow") return; // never answers
      const handler = routes[path];
      if (!handler) {
        res.writeHead(404).end("404 page not found");
        return;
      }
      const out = handler(body);
      res.writeHead(out.status ?? 200, { "content-type": "application/json; charset=utf-8", ...out.headers });
      res.end(out.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  rest = createRestClient({ baseUrl, timeoutMs: 2000 });
});

afterAll(async () => {
  await rest.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("createRestClient", () => {
  it("posts JSON with operationID and token headers and returns data", async () => {
    const data = await rest.call<{ token: string }>(
      "auth/get_admin_token",
      { secret: "s", userID: "imAdmin" },
      { token: "tk", operationID: "op-1" },
    );
    expect(data.token).toBe("admintoken");
    const last = seen.at(-1);
    expect(last?.url).toBe("/auth/get_admin_token");
    expect(last?.headers.operationid).toBe("op-1");
    expect(last?.headers.token).toBe("tk");
    expect(last?.headers["content-type"]).toBe("application/json");
    expect(last?.headers["accept-encoding"]).toBeUndefined();
    expect(last?.body).toEqual({ secret: "s", userID: "imAdmin" });
  });

  it("generates an operationID when none is given and sends no token header", async () => {
    await rest.call("auth/get_admin_token", {});
    const last = seen.at(-1);
    expect(last?.headers.operationid).toMatch(/^cutover_/);
    expect(last?.headers.token).toBeUndefined();
  });

  it("returns undefined when the envelope has no data", async () => {
    await expect(rest.call("/user/user_register", { users: [] })).resolves.toBeUndefined();
  });

  it("throws OpenImError carrying errCode, errMsg, errDlt and the route", async () => {
    const err = await rest
      .call("group/get_groups_info", {}, { operationID: "op-x" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenImError);
    expect(err).toMatchObject({
      errCode: 1004,
      errMsg: "RecordNotFoundError",
      errDlt: "group not found",
      route: "group/get_groups_info",
      operationID: "op-x",
    });
    expect((err as Error).message).toContain("POST /group/get_groups_info");
    expect((err as Error).message).toContain("1004");
  });

  it("names route and status for a non-JSON body", async () => {
    const err = await rest.call("not/json", {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenImTransportError);
    expect(err).toMatchObject({ kind: "not-json", route: "not/json", status: 200 });
    expect((err as Error).message).toMatch(/POST \/not\/json.*not JSON.*oops/);
  });

  it("rejects JSON that is not an envelope", async () => {
    await expect(rest.call("not/envelope", {})).rejects.toMatchObject({ kind: "bad-envelope" });
  });

  it("names route and status for a non-200 answer", async () => {
    const err = await rest.call("bad/status", {}).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: "http-status", status: 502, route: "bad/status" });
    expect((err as Error).message).toContain("HTTP 502");
  });

  it("a non-200 answer that still carries an OpenIM envelope is an OpenImError with the status", async () => {
    const err = await rest.call("msg/bad_body", {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenImError);
    expect(err).toMatchObject({ errCode: 1001, httpStatus: 400, route: "msg/bad_body" });
  });

  it("decodes a gzip body", async () => {
    await expect(rest.call("gzipped", {})).resolves.toEqual({ z: 1 });
  });

  it("times out", async () => {
    await expect(rest.call("slow", {}, { timeoutMs: 100 })).rejects.toMatchObject({
      kind: "timeout",
      route: "slow",
    });
  });

  it("keeps a path prefix of the base URL", async () => {
    const prefixed = createRestClient({ baseUrl: `${baseUrl}/prefix/` });
    await prefixed.call("auth/get_admin_token", {});
    expect(seen.at(-1)?.url).toBe("/prefix/auth/get_admin_token");
    await prefixed.close();
  });

  it("reports an unreachable server as a network error", async () => {
    const dead = createRestClient({ baseUrl: "http://127.0.0.1:1", timeoutMs: 1000 });
    await expect(dead.call("auth/get_admin_token", {})).rejects.toMatchObject({ kind: "network" });
    await dead.close();
  });
});

describe("admin-api", () => {
  it("getAdminToken", async () => {
    await expect(getAdminToken(rest, "openIM123", "imAdmin")).resolves.toEqual({
      token: "admintoken",
      expireTimeSeconds: 7776000,
    });
  });

  it("registerUsers defaults nickname to the userID", async () => {
    await registerUsers(rest, "adm", [{ userID: "u_1" }]);
    expect(seen.at(-1)?.body).toEqual({ users: [{ userID: "u_1", nickname: "u_1", faceURL: "", ex: "" }] });
  });

  it("a data shape the wrapper does not expect is a bad-data error naming the field", async () => {
    const err = await getUserToken(rest, "adm", "u_1", 3).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: "bad-data", route: "auth/get_user_token" });
    expect((err as Error).message).toContain("token");
  });

  it("sendMsgAsAdmin builds a text send_msg body", async () => {
    await expect(
      sendMsgAsAdmin(rest, "adm", { sendID: "a", recvID: "b", text: "hi" }),
    ).resolves.toMatchObject({ serverMsgID: "s1" });
    expect(seen.at(-1)?.body).toMatchObject({
      sendID: "a",
      recvID: "b",
      groupID: "",
      content: { content: "hi" },
      contentType: 101,
      sessionType: 1,
    });
  });
});
