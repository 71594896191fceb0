import http from "k6/http";
import type { StackEnv } from "./env.js";

/**
 * Accounts and tokens from OpenIM's admin API, as cutover's `openim-direct` driver gets them
 * (src/drivers/openim-direct-driver.ts). Not the gateway's DH login: k6's WebCrypto has no
 * X25519 (grafana/k6 internal/js/modules/k6/webcrypto/algorithm.go: ECDH on NIST curves,
 * HKDF, AES-GCM, but no X25519), so a script cannot complete the gateway's handshake.
 * asyncRequest keeps the VU's event loop free for the sockets it holds.
 */

interface Envelope {
  errCode: number;
  errMsg: string;
  data?: unknown;
}

let seq = 0;

async function call(env: StackEnv, route: string, body: unknown, token?: string): Promise<unknown> {
  const operationID = `k6_${__VU}_${Date.now().toString(36)}_${(seq++).toString(36)}`;
  const headers: Record<string, string> = { "content-type": "application/json", operationID };
  if (token !== undefined) headers.token = token;
  const res = await http.asyncRequest("POST", `${env.openimApi}/${route}`, JSON.stringify(body), {
    headers,
    tags: { name: route },
  });
  if (res.status !== 200) throw new Error(`${route}: HTTP ${res.status}`);
  const parsed: unknown = JSON.parse(String(res.body));
  const envelope = parsed as Envelope;
  if (typeof envelope.errCode !== "number") throw new Error(`${route}: not an OpenIM envelope`);
  if (envelope.errCode !== 0) throw new Error(`${route}: errCode ${envelope.errCode} ${envelope.errMsg}`);
  return envelope.data;
}

function tokenOf(route: string, data: unknown): string {
  const token = (data as { token?: unknown } | undefined)?.token;
  if (typeof token !== "string" || token === "") throw new Error(`${route}: no token in the answer`);
  return token;
}

export async function adminToken(env: StackEnv): Promise<string> {
  const route = "auth/get_admin_token";
  return tokenOf(route, await call(env, route, { secret: env.adminSecret, userID: env.adminUserID }));
}

export async function registerUsers(env: StackEnv, admin: string, userIDs: string[]): Promise<void> {
  const users = userIDs.map((userID) => ({ userID, nickname: userID, faceURL: "", ex: "" }));
  await call(env, "user/user_register", { users }, admin);
}

export async function userToken(env: StackEnv, admin: string, userID: string): Promise<string> {
  const route = "auth/get_user_token";
  return tokenOf(route, await call(env, route, { userID, platformID: env.platformID }, admin));
}

/** A working group (groupType 2, the only type v3.8.3 accepts) owned by `owner`. */
export async function createGroup(
  env: StackEnv,
  admin: string,
  owner: string,
  members: string[],
): Promise<string> {
  const data = await call(
    env,
    "group/create_group",
    {
      ownerUserID: owner,
      memberUserIDs: members,
      adminUserIDs: [],
      groupInfo: { groupID: "", groupName: `k6 ${owner}`, groupType: 2, needVerification: 0, ex: "" },
    },
    admin,
  );
  const groupID = (data as { groupInfo?: { groupID?: unknown } } | undefined)?.groupInfo?.groupID;
  if (typeof groupID !== "string" || groupID === "") throw new Error("group/create_group: no groupID");
  return groupID;
}

/** A legal OpenIM userID unique across runners: __VU repeats on every k6-operator runner, the random tag does not. */
export function newUserID(prefix: string, n: number): string {
  const tag = Math.floor(Math.random() * 0xffffffff).toString(36);
  return `${prefix}_${Date.now().toString(36)}_${tag}_${__VU}_${n}`;
}
