import {
  createGroup,
  type GroupInfo,
  groupConversationID,
  OpenImError,
  OpenImTransportError,
  type OpenImWsClient,
} from "../../src/protocol/index.js";
import { eventually, type StackFixtures, type TestUser } from "./fixtures.js";
import { asTuple, type Tuple } from "./lists.js";

/**
 * Groups for the conformance suites (Complement's blueprints): a fresh group with fresh
 * users in the roles a case needs, created by its owner through OpenIM's REST API.
 */

export interface GroupCast<A extends number = number, M extends number = number> {
  groupID: string;
  info: GroupInfo;
  owner: TestUser;
  /** roleLevel 60 (adminUserIDs at creation). */
  admins: Tuple<TestUser, A>;
  /** roleLevel 20. */
  members: Tuple<TestUser, M>;
  /** Owner, admins, members. */
  everyone: [TestUser, ...Tuple<TestUser, A>, ...Tuple<TestUser, M>];
}

export interface GroupShape<A extends number, M extends number> {
  /** How many admins besides the owner (default 0). */
  admins?: A;
  /** How many ordinary members (default 2). */
  members?: M;
  /**
   * Wait until the group conversation has its first seq (the 1501 creation notice). Default
   * true: OpenIM's kick and quit read the conversation's max seq and answer 1001 "maxSeq is
   * invalid" while it is still 0 (server: internal/rpc/group/group.go
   * deleteMemberAndSetConversationSeq), so a case must not race the creation.
   */
  settle?: boolean;
}

/** A fresh group; `newGroup(stack, { admins: 1, members: 2 })` types `admins[0]` and `members[1]` as users. */
export async function newGroup<A extends number = 0, M extends number = 2>(
  stack: StackFixtures,
  shape: GroupShape<A, M> = {},
): Promise<GroupCast<A, M>> {
  // An omitted count is its type parameter's default (A = 0, M = 2), so these are A and M.
  const nAdmins = (shape.admins ?? 0) as A;
  const nMembers = (shape.members ?? 2) as M;
  const users: TestUser[] = await stack.newUsers(1 + nAdmins + nMembers);
  const [owner] = asTuple(users.slice(0, 1), 1);
  const admins = users.slice(1, 1 + nAdmins);
  const members = users.slice(1 + nAdmins);
  const info = await createGroup(stack.rest, owner.token, {
    ownerUserID: owner.userID,
    memberUserIDs: members.map((u) => u.userID),
    adminUserIDs: admins.map((u) => u.userID),
    groupName: "conformance group",
  });
  if (shape.settle ?? true) await groupSettled(stack, owner.userID, info.groupID);
  return {
    groupID: info.groupID,
    info,
    owner,
    admins: asTuple(admins, nAdmins),
    members: asTuple(members, nMembers),
    // The owner, then the admins, then the members: the lists just checked, in that order.
    everyone: users as GroupCast<A, M>["everyone"],
  };
}

/** The group conversation's newest seq as `userID` sees it (msg/newest_seq with the admin token). */
export async function groupMaxSeq(stack: StackFixtures, userID: string, groupID: string): Promise<number> {
  const data = await stack.rest.call<{ maxSeqs?: Record<string, number> } | undefined>(
    "msg/newest_seq",
    { userID },
    { token: stack.adminToken },
  );
  return data?.maxSeqs?.[groupConversationID(groupID)] ?? 0;
}

/** Resolves once the group conversation's max seq is above `after` (bounded). */
export async function groupSettled(
  stack: StackFixtures,
  userID: string,
  groupID: string,
  after = 0,
  timeoutMs = 5000,
): Promise<number> {
  let seq = 0;
  const ok = await eventually(
    async () => {
      seq = await groupMaxSeq(stack, userID, groupID);
      return seq > after;
    },
    timeoutMs,
    25,
  );
  if (!ok) throw new Error(`group ${groupID} has no seq above ${after} after ${timeoutMs} ms`);
  return seq;
}

/** OpenIM's REST API called with this user's own token, as their app would. */
export function restAs(stack: StackFixtures, user: { token: string }) {
  return <T = unknown>(route: string, body: unknown) =>
    stack.rest.call<T>(route, body, { token: user.token });
}

/** The errCode a call was refused with; fails the case when it succeeded or broke otherwise. */
export async function refusal(call: Promise<unknown>): Promise<OpenImError> {
  try {
    await call;
  } catch (err) {
    if (err instanceof OpenImError) return err;
    if (err instanceof OpenImTransportError)
      throw new Error(`expected an OpenIM refusal, got ${err.message}`);
    throw err;
  }
  throw new Error("expected an OpenIM refusal, but the call succeeded");
}

export interface MemberView {
  userID: string;
  roleLevel: number;
  nickname: string;
  muteEndTime: number;
}

/** group/get_group_members_info as `viewer`, keyed by userID (absent = not a member). */
export async function membersInfo(
  stack: StackFixtures,
  viewer: { token: string },
  groupID: string,
  userIDs: string[],
): Promise<Record<string, MemberView>> {
  const data = await restAs(stack, viewer)<{ members: MemberView[] | null }>("group/get_group_members_info", {
    groupID,
    userIDs,
  });
  return Object.fromEntries((data.members ?? []).map((m) => [m.userID, m]));
}

/** group/get_groups_info with the admin token (it has no membership check either way). */
export async function groupInfo(
  stack: StackFixtures,
  groupID: string,
): Promise<GroupInfo & Record<string, unknown>> {
  const data = await stack.rest.call<{ groupInfos: Array<GroupInfo & Record<string, unknown>> }>(
    "group/get_groups_info",
    { groupIDs: [groupID] },
    { token: stack.adminToken },
  );
  const info = data.groupInfos[0];
  if (!info) throw new Error(`group ${groupID} not found`);
  return info;
}

/**
 * Whether a second dismiss was refused as OpenIM v3.8.3 does: 1204 (group.go DismissGroup,
 * "group status is dismissed"), or — a race observed about once in 40 dismissals under
 * parallel load — 1004 "group <id> owner not found", when the cached owner lookup
 * (redis GroupCacheRedis.GetGroupOwner) that DismissGroup does first comes back empty.
 */
export function refusedAsDismissed(err: { errCode: number; errMsg: string }): boolean {
  return err.errCode === 1204 || (err.errCode === 1004 && err.errMsg.includes("owner not found"));
}

/**
 * Sends group texts until OpenIM answers with `expected` (0 = accepted) or `timeoutMs` passes,
 * and returns the last errCode. The msg RPC checks a send against local caches of the group
 * and its members that are invalidated asynchronously through Redis pub/sub (server:
 * pkg/rpccache/group.go, subscriber.go), so the first send right after a mute, unmute, kick
 * or dismiss may still see the state before it.
 */
export async function sendOutcome(
  ws: OpenImWsClient,
  groupID: string,
  expected: number,
  timeoutMs = 3000,
): Promise<number> {
  let last = Number.NaN;
  await eventually(
    async () => {
      last = await ws.sendText({ groupID, text: `probe ${Date.now()}` }).then(
        () => 0,
        (err: unknown) => (err instanceof OpenImError ? err.errCode : Number.NaN),
      );
      return last === expected;
    },
    timeoutMs,
    50,
  );
  return last;
}
