import { PbCoder } from "@openim/protocol";
import { describe, expect, test } from "vitest";
import {
  buildTextMsg,
  decodeText,
  groupConversationID,
  inviteToGroup,
  type ReceivedMsg,
  ReqIdentifier,
} from "../src/protocol/index.js";
import { eventually, inbox, nextPush } from "./support/fixtures.js";
import {
  groupInfo,
  groupMaxSeq,
  membersInfo,
  newGroup,
  refusal,
  refusedAsDismissed,
  restAs,
  sendOutcome,
} from "./support/groups.js";
import { allOf, at } from "./support/lists.js";
import { useStack } from "./support/stack.js";

// Suite `groups`: create, invite, members, roles, kick, mute, set info, transfer, dismiss, fan-out.
// Every case makes its own users and group (docs/openim-protocol.md §3 group routes, §5 permissions).
const stack = useStack();

/** Group notification contentTypes (proto: constant/constant.go; docs/openim-protocol.md §2). */
const Notice = {
  GroupCreated: 1501,
  MemberKicked: 1508,
  MemberInvited: 1509,
  GroupDismissed: 1511,
  MemberMuted: 1512,
  GroupMuted: 1514,
} as const;
const Role = { Owner: 100, Admin: 60, Member: 20 } as const;

const text = (t: string) => (m: ReceivedMsg) => decodeText(m) === t;
const unique = (label: string) =>
  `${label} ${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

describe("create", () => {
  test("create_group makes the owner roleLevel 100, adminUserIDs 60 and every other member 20", {
    meta: {
      source: [
        "server:internal/rpc/group/group.go CreateGroup",
        "proto:constant/constant.go GroupOwner",
        "docs/openim-protocol.md §3",
        "docs/openim-protocol.md §5",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §3 group/create_group, §5 role levels — server: internal/rpc/group/group.go CreateGroup
    const g = await newGroup(stack, { admins: 1, members: 2, settle: false });
    const roles = await membersInfo(
      stack,
      g.owner,
      g.groupID,
      g.everyone.map((u) => u.userID),
    );
    expect(roles[g.owner.userID]?.roleLevel).toBe(Role.Owner);
    expect(roles[g.admins[0].userID]?.roleLevel).toBe(Role.Admin);
    for (const m of g.members) expect(roles[m.userID]?.roleLevel).toBe(Role.Member);
  });

  test("create_group answers the GroupInfo: a generated groupID, groupType 2, status 0, the owner and memberCount", {
    meta: {
      source: [
        "server:internal/rpc/group/group.go CreateGroup",
        "server:internal/rpc/group/group.go GenGroupID",
        "docs/openim-protocol.md §3",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §3 group/create_group ("groupID is generated when empty") — server: group.go CreateGroup, GenGroupID
    const g = await newGroup(stack, { admins: 1, members: 2, settle: false });
    expect(g.info).toMatchObject({
      groupType: 2,
      status: 0,
      ownerUserID: g.owner.userID,
      memberCount: 4,
      groupName: "conformance group",
    });
    expect(g.groupID).toMatch(/^\S+$/);
    expect((await groupInfo(stack, g.groupID)).memberCount).toBe(4);
  });

  test('a groupType other than 2 is refused with 1001 ("group type only supports 2")', {
    meta: { source: ["server:internal/rpc/group/group.go CreateGroup", "docs/openim-protocol.md §3"] },
  }, async () => {
    const [owner, member] = await stack.newUsers(2);
    for (const groupType of [0, 1]) {
      const err = await refusal(
        restAs(stack, owner)("group/create_group", {
          ownerUserID: owner.userID,
          memberUserIDs: [member.userID],
          adminUserIDs: [],
          groupInfo: { groupName: "typed", groupType },
        }),
      );
      expect(err.errCode).toBe(1001);
      expect(err.errMsg).toEqual(expect.stringContaining("group type only supports 2"));
    }
  });

  test("a user cannot create a group owned by someone else (1002)", {
    meta: {
      source: [
        "server:internal/rpc/group/group.go CreateGroup",
        "server:pkg/authverify/token.go CheckAccessV3",
        "docs/openim-protocol.md §3",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §3 group/create_group ("caller must be the owner or an app admin") — server: CheckAccessV3
    const [owner, other] = await stack.newUsers(2);
    const err = await refusal(
      restAs(stack, other)("group/create_group", {
        ownerUserID: owner.userID,
        memberUserIDs: [other.userID],
        adminUserIDs: [],
        groupInfo: { groupName: "not mine", groupType: 2 },
      }),
    );
    expect(err.errCode).toBe(1002);
  });

  test("create_group with a member listed twice is refused with 1001, with an unknown user with 1101", {
    meta: { source: ["server:internal/rpc/group/group.go CreateGroup", "docs/openim-protocol.md §3"] },
  }, async () => {
    // docs/openim-protocol.md §3 group/create_group ("Duplicates → 1001. Unknown user → 1101") — server: group.go CreateGroup
    const [owner, member] = await stack.newUsers(2);
    const create = (memberUserIDs: string[]) =>
      restAs(stack, owner)("group/create_group", {
        ownerUserID: owner.userID,
        memberUserIDs,
        adminUserIDs: [],
        groupInfo: { groupName: "bad members", groupType: 2 },
      });
    expect((await refusal(create([member.userID, member.userID]))).errCode).toBe(1001);
    expect((await refusal(create([member.userID, "nobody_by_this_id"]))).errCode).toBe(1101);
  });

  test("group creation is announced to online members: 1501 in sg_<groupID> with a seq and in n_<groupID> with seq 0", {
    meta: {
      source: [
        "server:internal/rpc/group/notification.go GroupCreatedNotification",
        "server:pkg/msgprocessor/conversation.go GetConversationIDByMsg",
        "docs/openim-protocol.md §2",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §2 conversation IDs and group notifications — server: internal/rpc/group/notification.go GroupCreatedNotification
    const [owner, member] = await stack.newUsers(2);
    const ws = await stack.connect(member);
    const got = inbox(ws);
    const info = await restAs(stack, owner)<{ groupInfo: { groupID: string } }>("group/create_group", {
      ownerUserID: owner.userID,
      memberUserIDs: [member.userID],
      adminUserIDs: [],
      groupInfo: { groupName: "announced", groupType: 2 },
    });
    const groupID = info.groupInfo.groupID;
    const seen = await eventually(
      () => got.filter((m) => m.contentType === Notice.GroupCreated && m.groupID === groupID).length >= 2,
    );
    expect(seen).toBe(true);
    const created = got.filter((m) => m.contentType === Notice.GroupCreated);
    expect(created.find((m) => m.conversationID === groupConversationID(groupID))?.seq).toBeGreaterThan(0);
    expect(created.find((m) => m.conversationID === `n_${groupID}`)).toMatchObject({ seq: 0 });
  });
});

describe("invite", () => {
  test("an invited user joins as an ordinary member (20) and memberCount grows", {
    meta: { source: ["server:internal/rpc/group/group.go InviteUserToGroup", "docs/openim-protocol.md §3"] },
  }, async () => {
    // docs/openim-protocol.md §3 group/invite_user_to_group — server: group.go InviteUserToGroup
    const g = await newGroup(stack, { members: 1 });
    const guest = await stack.user();
    await inviteToGroup(stack.rest, g.owner.token, g.groupID, [guest.userID]);
    expect((await membersInfo(stack, g.owner, g.groupID, [guest.userID]))[guest.userID]?.roleLevel).toBe(
      Role.Member,
    );
    expect((await groupInfo(stack, g.groupID)).memberCount).toBe(3);
  });

  test("an invitation is announced with 1509 to the members and to the invitee", {
    meta: {
      source: [
        "server:internal/rpc/group/notification.go GroupApplicationAgreeMemberEnterNotification",
        "proto:constant/constant.go MemberInvitedNotification",
        "docs/openim-protocol.md §2",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §2 group notifications (1509 MemberInvited) — server: notification.go MemberInvitedNotification
    const g = await newGroup(stack, { members: 1 });
    const guest = await stack.user();
    const [wOwner, wGuest] = await Promise.all([stack.connect(g.owner), stack.connect(guest)]);
    const isInvite = (m: ReceivedMsg) =>
      m.contentType === Notice.MemberInvited && m.conversationID === groupConversationID(g.groupID);
    const seen = Promise.all([nextPush(wOwner, isInvite), nextPush(wGuest, isInvite)]);
    await inviteToGroup(stack.rest, g.owner.token, g.groupID, [guest.userID]);
    const [toOwner, toGuest] = await seen;
    expect(toOwner.seq).toBeGreaterThan(0);
    expect(toGuest.seq).toBe(toOwner.seq);
  });

  test("an ordinary member may invite when the group needs no verification", {
    meta: { source: ["server:internal/rpc/group/group.go InviteUserToGroup", "docs/openim-protocol.md §3"] },
  }, async () => {
    // docs/openim-protocol.md §3 group/invite_user_to_group ("If needVerification==1 and the caller is an ordinary member…")
    const g = await newGroup(stack, { members: 1 });
    const guest = await stack.user();
    await inviteToGroup(stack.rest, g.members[0].token, g.groupID, [guest.userID]);
    expect(await membersInfo(stack, g.owner, g.groupID, [guest.userID])).toHaveProperty(guest.userID);
  });

  test("inviting an unknown user is refused with 1004", {
    meta: { source: ["server:internal/rpc/group/group.go InviteUserToGroup", "docs/openim-protocol.md §3"] },
  }, async () => {
    // docs/openim-protocol.md §3 group/invite_user_to_group ("Unknown user → 1004") — server: group.go InviteUserToGroup
    const g = await newGroup(stack, { members: 1 });
    const err = await refusal(inviteToGroup(stack.rest, g.owner.token, g.groupID, ["nobody_by_this_id"]));
    expect(err.errCode).toBe(1004);
  });

  test("an invited user receives the group's messages from then on", {
    meta: {
      source: [
        "server:internal/push/push_handler.go Push2Group",
        "server:internal/rpc/group/group.go InviteUserToGroup",
        "docs/openim-protocol.md §2",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §2 "Group chat: every group member, including the sender" — server: push_handler.go Push2Group
    const g = await newGroup(stack, { members: 1 });
    const guest = await stack.user();
    const [wOwner, wGuest] = await Promise.all([stack.connect(g.owner), stack.connect(guest)]);
    // The invite notice reaching the guest shows the push path already counts them as a member.
    const invited = nextPush(wGuest, (m) => m.contentType === Notice.MemberInvited);
    await inviteToGroup(stack.rest, g.owner.token, g.groupID, [guest.userID]);
    await invited;
    const hello = unique("welcome");
    const arrival = nextPush(wGuest, text(hello));
    await wOwner.sendText({ groupID: g.groupID, text: hello });
    expect((await arrival).sendID).toBe(g.owner.userID);
  });
});

describe("members", () => {
  test("get_group_member_list returns every member with its roleLevel (100/60/20) and the total", {
    meta: { source: ["server:internal/rpc/group/group.go GetGroupMemberList", "docs/openim-protocol.md §5"] },
  }, async () => {
    const g = await newGroup(stack, { admins: 1, members: 2, settle: false });
    const list = await restAs(stack, g.members[0])<{
      total: number;
      members: Array<{ userID: string; roleLevel: number; groupID: string }>;
    }>("group/get_group_member_list", { groupID: g.groupID, pagination: { pageNumber: 1, showNumber: 100 } });
    expect(list.total).toBe(4);
    const roles = Object.fromEntries(list.members.map((m) => [m.userID, m.roleLevel]));
    expect(roles).toEqual({
      [g.owner.userID]: Role.Owner,
      [g.admins[0].userID]: Role.Admin,
      [g.members[0].userID]: Role.Member,
      [g.members[1].userID]: Role.Member,
    });
    expect(new Set(list.members.map((m) => m.groupID))).toEqual(new Set([g.groupID]));
  });

  test("get_group_member_list pages: showNumber 2 answers two members and the full total", {
    meta: {
      source: [
        "server:internal/rpc/group/group.go GetGroupMemberList",
        "proto:sdkws/sdkws.go RequestPagination",
      ],
    },
  }, async () => {
    // server: group.go GetGroupMemberList (pagination)
    const g = await newGroup(stack, { admins: 1, members: 2, settle: false });
    const page = (pageNumber: number) =>
      restAs(stack, g.owner)<{ total: number; members: Array<{ userID: string }> }>(
        "group/get_group_member_list",
        { groupID: g.groupID, pagination: { pageNumber, showNumber: 2 } },
      );
    const [one, two] = await Promise.all([page(1), page(2)]);
    expect([one.total, one.members.length, two.members.length]).toEqual([4, 2, 2]);
  });

  test("get_group_members_info answers only the members asked for and omits non-members", {
    meta: {
      source: ["server:internal/rpc/group/group.go GetGroupMembersInfo", "docs/openim-protocol.md §3"],
    },
  }, async () => {
    const g = await newGroup(stack, { members: 2, settle: false });
    const stranger = await stack.user();
    const got = await membersInfo(stack, g.owner, g.groupID, [g.members[0].userID, stranger.userID]);
    expect(Object.keys(got)).toEqual([g.members[0].userID]);
  });
});

describe("roles", () => {
  const setMember = (actor: { token: string }, groupID: string, userID: string, fields: object) =>
    restAs(stack, actor)("group/set_group_member_info", { members: [{ groupID, userID, ...fields }] });

  test("the owner promotes a member to admin (roleLevel 60) and demotes them again (20)", {
    meta: { source: ["server:internal/rpc/group/group.go SetGroupMemberInfo", "docs/openim-protocol.md §5"] },
  }, async () => {
    const g = await newGroup(stack, { members: 1, settle: false });
    const m = g.members[0];
    await setMember(g.owner, g.groupID, m.userID, { roleLevel: Role.Admin });
    expect((await membersInfo(stack, g.owner, g.groupID, [m.userID]))[m.userID]?.roleLevel).toBe(Role.Admin);
    await setMember(g.owner, g.groupID, m.userID, { roleLevel: Role.Member });
    expect((await membersInfo(stack, g.owner, g.groupID, [m.userID]))[m.userID]?.roleLevel).toBe(Role.Member);
  });

  test("an admin may promote an ordinary member to admin", {
    meta: { source: ["server:internal/rpc/group/group.go SetGroupMemberInfo", "docs/openim-protocol.md §5"] },
  }, async () => {
    // server: group.go SetGroupMemberInfo (observed on v3.8.3: an admin may raise a member to 60)
    const g = await newGroup(stack, { admins: 1, members: 1, settle: false });
    const m = g.members[0];
    await setMember(g.admins[0], g.groupID, m.userID, { roleLevel: Role.Admin });
    expect((await membersInfo(stack, g.owner, g.groupID, [m.userID]))[m.userID]?.roleLevel).toBe(Role.Admin);
  });

  test("a member cannot raise their own roleLevel (1002)", {
    meta: { source: ["server:internal/rpc/group/group.go SetGroupMemberInfo", "docs/openim-protocol.md §5"] },
  }, async () => {
    // server: group.go SetGroupMemberInfo ("can not improve role level by self")
    const g = await newGroup(stack, { members: 1, settle: false });
    const m = g.members[0];
    const err = await refusal(setMember(m, g.groupID, m.userID, { roleLevel: Role.Admin }));
    expect(err.errCode).toBe(1002);
    expect((await membersInfo(stack, g.owner, g.groupID, [m.userID]))[m.userID]?.roleLevel).toBe(Role.Member);
  });

  test("set_group_member_info cannot make anyone owner (roleLevel 100 → 1002): ownership moves only by transfer", {
    meta: {
      source: [
        "server:internal/rpc/group/group.go SetGroupMemberInfo",
        "server:internal/rpc/group/group.go TransferGroupOwner",
        "docs/openim-protocol.md §3",
        "docs/openim-protocol.md §5",
      ],
    },
  }, async () => {
    // server: group.go SetGroupMemberInfo ("cannot set ungroup owner"); docs/openim-protocol.md §3 group/transfer_group
    const g = await newGroup(stack, { members: 1, settle: false });
    const err = await refusal(setMember(g.owner, g.groupID, g.members[0].userID, { roleLevel: Role.Owner }));
    expect(err.errCode).toBe(1002);
    expect((await groupInfo(stack, g.groupID)).ownerUserID).toBe(g.owner.userID);
  });

  test("a member may set their own group nickname, and the others see it", {
    meta: { source: ["server:internal/rpc/group/group.go SetGroupMemberInfo"] },
  }, async () => {
    // server: group.go SetGroupMemberInfo (self-edit of non-role fields)
    const g = await newGroup(stack, { members: 1, settle: false });
    const m = g.members[0];
    await setMember(m, g.groupID, m.userID, { nickname: "the nick" });
    expect((await membersInfo(stack, g.owner, g.groupID, [m.userID]))[m.userID]?.nickname).toBe("the nick");
  });
});

describe("kick", () => {
  const kick = (actor: { token: string }, groupID: string, userIDs: string[]) =>
    restAs(stack, actor)("group/kick_group", { groupID, kickedUserIDs: userIDs, reason: "conformance" });

  test("a kicked member is told (1508), stops receiving the group's messages, and their send is refused with 1203", {
    meta: {
      source: [
        "server:internal/rpc/group/group.go KickGroupMember",
        "server:internal/rpc/group/notification.go MemberKickedNotification",
        "server:internal/rpc/msg/verify.go messageVerification",
        "docs/openim-protocol.md §5",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §5 kick and sender checks (6. not a member → 1203) — server: group.go KickGroupMember, msg/verify.go
    const g = await newGroup(stack, { members: 2 });
    const [stayer, leaver] = g.members;
    const [wOwner, wStay, wLeave] = await Promise.all([
      stack.connect(g.owner),
      stack.connect(stayer),
      stack.connect(leaver),
    ]);
    const leaverGot = inbox(wLeave);
    const isKick = (m: ReceivedMsg) =>
      m.contentType === Notice.MemberKicked && m.conversationID === groupConversationID(g.groupID);
    const told = Promise.all([nextPush(wStay, isKick), nextPush(wLeave, isKick)]);
    await kick(g.owner, g.groupID, [leaver.userID]);
    const [kickNotice] = await told;
    // Once the 1508 is sequenced the kick has settled; a later message is beyond the leaver's reach.
    const after = unique("after the kick");
    const stayerGets = nextPush(wStay, text(after));
    await wOwner.sendText({ groupID: g.groupID, text: after });
    const delivered = await stayerGets;
    expect(delivered.seq).toBeGreaterThan(kickNotice.seq);
    expect(leaverGot.some(text(after))).toBe(false);
    // The leaver can still pull the history up to the kick, and nothing after it.
    let pulled: ReceivedMsg[] = [];
    await eventually(async () => {
      pulled = (
        await wLeave.pullBySeqs([
          { conversationID: groupConversationID(g.groupID), begin: 1, end: delivered.seq + 10 },
        ])
      ).messages;
      return pulled.length > 0;
    });
    expect(pulled.map((m) => m.seq)).toContain(1);
    expect(Math.max(...pulled.map((m) => m.seq))).toBeLessThan(delivered.seq);
    expect(await sendOutcome(wLeave, g.groupID, 1203)).toBe(1203);
  });

  test("nobody may kick the owner: an admin's attempt is refused with 1001", {
    meta: { source: ["server:internal/rpc/group/group.go KickGroupMember", "docs/openim-protocol.md §5"] },
  }, async () => {
    // docs/openim-protocol.md §5 Kick ("Nobody may kick the owner … (1001)") — server: group.go KickGroupMember ("ownerUID can not Kick")
    const g = await newGroup(stack, { admins: 1, members: 1 });
    const err = await refusal(kick(g.admins[0], g.groupID, [g.owner.userID]));
    expect(err.errCode).toBe(1001);
    expect(await membersInfo(stack, g.owner, g.groupID, [g.owner.userID])).toHaveProperty(g.owner.userID);
  });

  test("nobody may kick themselves: the owner and an admin both get 1001", {
    meta: { source: ["server:internal/rpc/group/group.go KickGroupMember", "docs/openim-protocol.md §5"] },
  }, async () => {
    // docs/openim-protocol.md §5 Kick — server: group.go KickGroupMember ("opUserID in KickedUserIDs")
    const g = await newGroup(stack, { admins: 1, members: 1 });
    for (const self of [g.owner, g.admins[0]]) {
      const err = await refusal(kick(self, g.groupID, [self.userID]));
      expect(err.errCode).toBe(1001);
      expect(err.errMsg).toEqual(expect.stringContaining("opUserID in KickedUserIDs"));
    }
  });

  test("an admin may kick an ordinary member but not another admin (1002)", {
    meta: { source: ["server:internal/rpc/group/group.go KickGroupMember", "docs/openim-protocol.md §5"] },
  }, async () => {
    // docs/openim-protocol.md §5 Kick ("Admin may kick ordinary members only") — server: group.go KickGroupMember
    const g = await newGroup(stack, { admins: 2, members: 1 });
    const [a1, a2] = g.admins;
    expect((await refusal(kick(a1, g.groupID, [a2.userID]))).errCode).toBe(1002);
    await kick(a1, g.groupID, [g.members[0].userID]);
    const left = await membersInfo(stack, g.owner, g.groupID, [a2.userID, g.members[0].userID]);
    expect(Object.keys(left)).toEqual([a2.userID]);
  });

  test("an ordinary member may not kick anyone (1002)", {
    meta: { source: ["server:internal/rpc/group/group.go KickGroupMember", "docs/openim-protocol.md §5"] },
  }, async () => {
    // docs/openim-protocol.md §5 Kick ("Ordinary member → 1002") — server: group.go KickGroupMember
    const g = await newGroup(stack, { admins: 1, members: 2 });
    const [m1, m2] = g.members;
    for (const target of [m2, g.admins[0]]) {
      expect((await refusal(kick(m1, g.groupID, [target.userID]))).errCode).toBe(1002);
    }
  });

  test("kicking a user who is not a member is refused with 1101", {
    meta: { source: ["server:internal/rpc/group/group.go KickGroupMember", "docs/openim-protocol.md §5"] },
  }, async () => {
    // docs/openim-protocol.md §5 Kick ("A target who is not a member → 1101") — server: group.go KickGroupMember
    const g = await newGroup(stack, { members: 1 });
    const stranger = await stack.user();
    expect((await refusal(kick(g.owner, g.groupID, [stranger.userID]))).errCode).toBe(1101);
  });
});

describe("mute", () => {
  const muteMember = (actor: { token: string }, groupID: string, userID: string, mutedSeconds = 60) =>
    restAs(stack, actor)("group/mute_group_member", { groupID, userID, mutedSeconds });
  const unmuteMember = (actor: { token: string }, groupID: string, userID: string) =>
    restAs(stack, actor)("group/cancel_mute_group_member", { groupID, userID });

  test("a muted member's send is refused with 1402 (MutedInGroup) and muteEndTime is now + mutedSeconds", {
    meta: {
      source: [
        "server:internal/rpc/msg/verify.go messageVerification",
        "server:internal/rpc/group/group.go MuteGroupMember",
        "docs/openim-protocol.md §5",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §5 sender checks (8. own muteEndTime ≥ now → 1402) — server: msg/verify.go messageVerification
    const g = await newGroup(stack, { members: 1, settle: false });
    const m = g.members[0];
    const before = Date.now();
    await muteMember(g.owner, g.groupID, m.userID, 120);
    const end = (await membersInfo(stack, g.owner, g.groupID, [m.userID]))[m.userID]?.muteEndTime;
    expect(end).toBeGreaterThanOrEqual(before + 119_000);
    expect(end).toBeLessThanOrEqual(Date.now() + 121_000);
    const ws = await stack.connect(m);
    expect(await sendOutcome(ws, g.groupID, 1402)).toBe(1402);
  });

  test("a muted admin's send is refused with 1402 as well", {
    meta: { source: ["server:internal/rpc/msg/verify.go messageVerification", "docs/openim-protocol.md §5"] },
  }, async () => {
    // docs/openim-protocol.md §5 sender checks ("This applies to admins and members") — server: msg/verify.go
    const g = await newGroup(stack, { admins: 1, members: 1, settle: false });
    await muteMember(g.owner, g.groupID, g.admins[0].userID);
    const ws = await stack.connect(g.admins[0]);
    expect(await sendOutcome(ws, g.groupID, 1402)).toBe(1402);
  });

  test("the owner still sends while muted (muted by an app admin): the owner check comes before the mute check", {
    meta: { source: ["server:internal/rpc/msg/verify.go messageVerification", "docs/openim-protocol.md §5"] },
  }, async () => {
    // docs/openim-protocol.md §5 sender checks (7. owner → allowed, even when muted) — server: msg/verify.go messageVerification
    const g = await newGroup(stack, { members: 1, settle: false });
    await stack.rest.call(
      "group/mute_group_member",
      { groupID: g.groupID, userID: g.owner.userID, mutedSeconds: 60 },
      { token: stack.adminToken },
    );
    expect(
      (await membersInfo(stack, g.owner, g.groupID, [g.owner.userID]))[g.owner.userID]?.muteEndTime,
    ).toBeGreaterThan(Date.now());
    const ws = await stack.connect(g.owner);
    await expect(ws.sendText({ groupID: g.groupID, text: "owner speaks" })).resolves.toMatchObject({
      serverMsgID: expect.any(String),
    });
  });

  test("an admin may mute an ordinary member but not the owner or another admin (1002)", {
    meta: { source: ["server:internal/rpc/group/group.go MuteGroupMember", "docs/openim-protocol.md §5"] },
  }, async () => {
    // docs/openim-protocol.md §5 mute a member ("Target owner → 1002. Target admin → the caller must be the owner") — server: group.go MuteGroupMember
    const g = await newGroup(stack, { admins: 2, members: 1, settle: false });
    const [a1, a2] = g.admins;
    expect((await refusal(muteMember(a1, g.groupID, g.owner.userID))).errCode).toBe(1002);
    expect((await refusal(muteMember(a1, g.groupID, a2.userID))).errCode).toBe(1002);
    await muteMember(a1, g.groupID, g.members[0].userID);
    const info = await membersInfo(stack, g.owner, g.groupID, [g.members[0].userID, a2.userID]);
    expect(info[g.members[0].userID]?.muteEndTime).toBeGreaterThan(Date.now());
    expect(info[a2.userID]?.muteEndTime).toBe(0);
  });

  test("an ordinary member may not mute anyone (1002)", {
    meta: { source: ["server:internal/rpc/group/group.go MuteGroupMember", "docs/openim-protocol.md §5"] },
  }, async () => {
    // docs/openim-protocol.md §5 mute a member ("the caller must be owner or admin, else 1002") — server: group.go MuteGroupMember
    const g = await newGroup(stack, { members: 2, settle: false });
    const err = await refusal(muteMember(g.members[0], g.groupID, g.members[1].userID));
    expect(err.errCode).toBe(1002);
  });

  test("cancel_mute_group_member resets muteEndTime to 0 and restores the member's send", {
    meta: {
      source: [
        "server:internal/rpc/group/group.go CancelMuteGroupMember",
        "server:internal/rpc/msg/verify.go messageVerification",
        "docs/openim-protocol.md §5",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §5 ("unmuting sets it to 0") — server: group.go CancelMuteGroupMember
    const g = await newGroup(stack, { admins: 1, members: 1, settle: false });
    const m = g.members[0];
    await muteMember(g.admins[0], g.groupID, m.userID);
    const ws = await stack.connect(m);
    expect(await sendOutcome(ws, g.groupID, 1402)).toBe(1402);
    await unmuteMember(g.admins[0], g.groupID, m.userID);
    expect((await membersInfo(stack, g.owner, g.groupID, [m.userID]))[m.userID]?.muteEndTime).toBe(0);
    expect(await sendOutcome(ws, g.groupID, 0)).toBe(0);
  });

  test("in a muted group an ordinary member's send is refused with 1403 while an admin and the owner still send", {
    meta: {
      source: [
        "server:internal/rpc/msg/verify.go messageVerification",
        "server:internal/rpc/group/group.go MuteGroup",
        "docs/openim-protocol.md §5",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §5 sender checks (9. group status 3 and not an admin → 1403) — server: msg/verify.go, group.go MuteGroup
    const g = await newGroup(stack, { admins: 1, members: 1, settle: false });
    await restAs(stack, g.admins[0])("group/mute_group", { groupID: g.groupID });
    expect((await groupInfo(stack, g.groupID)).status).toBe(3);
    const [wOwner, wAdmin, wMember] = await allOf([g.owner, g.admins[0], g.members[0]], (u) =>
      stack.connect(u),
    );
    expect(await sendOutcome(wMember, g.groupID, 1403)).toBe(1403);
    await expect(wAdmin.sendText({ groupID: g.groupID, text: "admin" })).resolves.toBeDefined();
    await expect(wOwner.sendText({ groupID: g.groupID, text: "owner" })).resolves.toBeDefined();
  });

  test("only the owner or an admin may mute the group: an ordinary member gets 1002", {
    meta: {
      source: [
        "server:internal/rpc/group/group.go MuteGroup",
        "server:internal/rpc/group/group.go CheckGroupAdmin",
        "docs/openim-protocol.md §5",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §5 ("Mute or unmute the whole group: owner or admin (CheckGroupAdmin), else 1002")
    const g = await newGroup(stack, { members: 1, settle: false });
    expect(
      (await refusal(restAs(stack, g.members[0])("group/mute_group", { groupID: g.groupID }))).errCode,
    ).toBe(1002);
    expect((await groupInfo(stack, g.groupID)).status).toBe(0);
  });

  test("cancel_mute_group puts the status back to 0 and restores ordinary members' sends", {
    meta: {
      source: [
        "server:internal/rpc/group/group.go CancelMuteGroup",
        "server:internal/rpc/msg/verify.go messageVerification",
        "docs/openim-protocol.md §3",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §3 group/mute_group and cancel_mute_group — server: group.go CancelMuteGroup
    const g = await newGroup(stack, { members: 1, settle: false });
    await restAs(stack, g.owner)("group/mute_group", { groupID: g.groupID });
    const ws = await stack.connect(g.members[0]);
    expect(await sendOutcome(ws, g.groupID, 1403)).toBe(1403);
    await restAs(stack, g.owner)("group/cancel_mute_group", { groupID: g.groupID });
    expect((await groupInfo(stack, g.groupID)).status).toBe(0);
    expect(await sendOutcome(ws, g.groupID, 0)).toBe(0);
  });
});

describe("set info", () => {
  test("the owner and an admin may set the group's info, and get_groups_info shows it", {
    meta: {
      source: [
        "server:internal/rpc/group/group.go SetGroupInfo",
        "server:internal/rpc/group/group.go SetGroupInfoEx",
        "server:internal/rpc/group/group.go GetGroupsInfo",
        "docs/openim-protocol.md §3",
        "docs/openim-protocol.md §5",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §3 group/set_group_info, set_group_info_ex; §5 ("Set group info: owner or admin")
    const g = await newGroup(stack, { admins: 1, members: 1, settle: false });
    await restAs(stack, g.owner)("group/set_group_info", {
      groupInfoForSet: { groupID: g.groupID, groupName: "renamed by the owner" },
    });
    await restAs(stack, g.admins[0])("group/set_group_info", {
      groupInfoForSet: { groupID: g.groupID, introduction: "written by an admin" },
    });
    await restAs(stack, g.admins[0])("group/set_group_info_ex", {
      groupID: g.groupID,
      notification: "an announcement",
    });
    expect(await groupInfo(stack, g.groupID)).toMatchObject({
      groupName: "renamed by the owner",
      introduction: "written by an admin",
      notification: "an announcement",
    });
  });

  test("an ordinary member's set_group_info and set_group_info_ex are refused with 1002", {
    meta: {
      source: [
        "server:internal/rpc/group/group.go SetGroupInfo",
        "server:internal/rpc/group/group.go SetGroupInfoEx",
        "docs/openim-protocol.md §5",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §5 ("owner or admin (else 1002 …)") — server: group.go SetGroupInfo, SetGroupInfoEx
    const g = await newGroup(stack, { members: 1, settle: false });
    const as = restAs(stack, g.members[0]);
    expect(
      (
        await refusal(
          as("group/set_group_info", { groupInfoForSet: { groupID: g.groupID, groupName: "mine now" } }),
        )
      ).errCode,
    ).toBe(1002);
    expect(
      (await refusal(as("group/set_group_info_ex", { groupID: g.groupID, groupName: "mine" }))).errCode,
    ).toBe(1002);
    expect((await groupInfo(stack, g.groupID)).groupName).toBe("conformance group");
  });

  test("setting the info of a dismissed group is refused with 1204", {
    meta: { source: ["server:internal/rpc/group/group.go SetGroupInfo", "docs/openim-protocol.md §5"] },
  }, async () => {
    // docs/openim-protocol.md §5 ("Dismissed group → 1204") — server: group.go SetGroupInfo
    const g = await newGroup(stack, { members: 1, settle: false });
    await restAs(stack, g.owner)("group/dismiss_group", { groupID: g.groupID, deleteMember: false });
    const err = await refusal(
      restAs(stack, g.owner)("group/set_group_info", {
        groupInfoForSet: { groupID: g.groupID, groupName: "too late" },
      }),
    );
    expect(err.errCode).toBe(1204);
  });
});

describe("transfer", () => {
  const transfer = (
    actor: { token: string },
    groupID: string,
    oldOwnerUserID: string,
    newOwnerUserID: string,
  ) => restAs(stack, actor)("group/transfer_group", { groupID, oldOwnerUserID, newOwnerUserID });

  test("transfer_group makes the new owner 100, the old owner an ordinary member (20), and moves ownerUserID", {
    meta: { source: ["server:internal/rpc/group/group.go TransferGroupOwner", "docs/openim-protocol.md §3"] },
  }, async () => {
    const g = await newGroup(stack, { members: 1, settle: false });
    const heir = g.members[0];
    await transfer(g.owner, g.groupID, g.owner.userID, heir.userID);
    const roles = await membersInfo(stack, heir, g.groupID, [g.owner.userID, heir.userID]);
    expect(roles[heir.userID]?.roleLevel).toBe(Role.Owner);
    expect(roles[g.owner.userID]?.roleLevel).toBe(Role.Member);
    expect((await groupInfo(stack, g.groupID)).ownerUserID).toBe(heir.userID);
  });

  test("only the current owner may transfer (an admin gets 1002); a non-member heir or the same owner gets 1001", {
    meta: {
      source: [
        "server:internal/rpc/group/group.go TransferGroupOwner",
        "docs/openim-protocol.md §3",
        "docs/openim-protocol.md §5",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §3 group/transfer_group, §5 Transfer — server: group.go TransferGroupOwner
    const g = await newGroup(stack, { admins: 1, members: 1, settle: false });
    const stranger = await stack.user();
    expect(
      (await refusal(transfer(g.admins[0], g.groupID, g.owner.userID, g.admins[0].userID))).errCode,
    ).toBe(1002);
    expect((await refusal(transfer(g.owner, g.groupID, g.owner.userID, stranger.userID))).errCode).toBe(1001);
    expect((await refusal(transfer(g.owner, g.groupID, g.owner.userID, g.owner.userID))).errCode).toBe(1001);
    expect((await groupInfo(stack, g.groupID)).ownerUserID).toBe(g.owner.userID);
  });

  test("after a transfer the former owner can no longer dismiss (1002) and the new owner can", {
    meta: {
      source: [
        "server:internal/rpc/group/group.go TransferGroupOwner",
        "server:internal/rpc/group/group.go DismissGroup",
        "docs/openim-protocol.md §5",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §5 Dismiss ("only the owner (else 1002 \"not group owner\")") — server: group.go DismissGroup
    const g = await newGroup(stack, { members: 1, settle: false });
    const heir = g.members[0];
    await transfer(g.owner, g.groupID, g.owner.userID, heir.userID);
    const dismiss = (actor: { token: string }) =>
      restAs(stack, actor)("group/dismiss_group", { groupID: g.groupID, deleteMember: false });
    expect((await refusal(dismiss(g.owner))).errCode).toBe(1002);
    await dismiss(heir);
    expect((await groupInfo(stack, g.groupID)).status).toBe(2);
  });
});

describe("dismiss", () => {
  const dismiss = (actor: { token: string }, groupID: string) =>
    restAs(stack, actor)("group/dismiss_group", { groupID, deleteMember: false });

  test("a dismissed group (status 2) refuses every send with 1204, the owner's and the admin's too", {
    meta: {
      source: [
        "server:internal/rpc/msg/verify.go messageVerification",
        "server:internal/rpc/group/group.go DismissGroup",
        "docs/openim-protocol.md §5",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §5 sender checks (2. dismissed → 1204) — server: msg/verify.go messageVerification
    const g = await newGroup(stack, { admins: 1, members: 1, settle: false });
    const sockets = await Promise.all(g.everyone.map((u) => stack.connect(u)));
    await dismiss(g.owner, g.groupID);
    expect((await groupInfo(stack, g.groupID)).status).toBe(2);
    for (const ws of sockets) {
      expect(await sendOutcome(ws, g.groupID, 1204)).toBe(1204);
    }
  });

  test("dismissal is announced with 1511 to the members", {
    meta: {
      source: [
        "server:internal/rpc/group/notification.go GroupDismissedNotification",
        "docs/openim-protocol.md §2",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §2 group notifications (1511 GroupDismissed) — server: notification.go GroupDismissedNotification
    const g = await newGroup(stack, { members: 1 });
    const ws = await stack.connect(g.members[0]);
    const told = nextPush(
      ws,
      (m) => m.contentType === Notice.GroupDismissed && m.conversationID === groupConversationID(g.groupID),
    );
    await dismiss(g.owner, g.groupID);
    expect((await told).seq).toBeGreaterThan(0);
  });

  test("dismissing twice, or inviting into a dismissed group, is refused with 1204", {
    meta: {
      source: [
        "server:internal/rpc/group/group.go DismissGroup",
        "server:internal/rpc/group/group.go InviteUserToGroup",
        "docs/openim-protocol.md §3",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §3 group/dismiss_group, invite_user_to_group ("Dismissed group → 1204")
    const g = await newGroup(stack, { members: 1, settle: false });
    const late = await stack.user();
    await dismiss(g.owner, g.groupID);
    const again = await refusal(dismiss(g.owner, g.groupID));
    expect(refusedAsDismissed(again), again.errMsg.slice(0, 300)).toBe(true);
    expect((await groupInfo(stack, g.groupID)).status).toBe(2);
    expect((await refusal(inviteToGroup(stack.rest, g.owner.token, g.groupID, [late.userID]))).errCode).toBe(
      1204,
    );
  });

  test("only the owner may dismiss: an admin gets 1002 and the group stays", {
    meta: { source: ["server:internal/rpc/group/group.go DismissGroup", "docs/openim-protocol.md §5"] },
  }, async () => {
    // docs/openim-protocol.md §5 Dismiss — server: group.go DismissGroup ("not group owner")
    const g = await newGroup(stack, { admins: 1, members: 1, settle: false });
    const err = await refusal(dismiss(g.admins[0], g.groupID));
    expect(err.errCode).toBe(1002);
    expect(err.errMsg).toEqual(expect.stringContaining("not group owner"));
    expect((await groupInfo(stack, g.groupID)).status).toBe(0);
  });
});

describe("fan-out", () => {
  test("a group message reaches every online member exactly once, the sender included", {
    meta: { source: ["server:internal/push/push_handler.go Push2Group", "docs/openim-protocol.md §2"] },
  }, async () => {
    // docs/openim-protocol.md §2 "Group chat: every group member, including the sender" — server: push_handler.go Push2Group
    // Raw sockets: OpenImWsClient drops a repeated seq, which would hide a duplicate push.
    const g = await newGroup(stack, { admins: 1, members: 3 });
    const sockets = await allOf(g.everyone, (u) => stack.raw(u));
    const sender = sockets[2];
    const send = async (t: string) => {
      const msg = buildTextMsg({ sendID: sender.userID, senderPlatformID: 3, groupID: g.groupID, text: t });
      const reply = await sender.request({
        reqIdentifier: ReqIdentifier.SendMsg,
        data: PbCoder.MsgData.encode(msg).finish(),
      });
      expect(reply.errCode).toBe(0);
      return msg.clientMsgID;
    };
    const first = await send(unique("fan-out"));
    // A second message in the same conversation as a barrier: pushes of one conversation keep seq order.
    const second = await send(unique("barrier"));
    await Promise.all(sockets.map((s) => s.pushed((m) => m.clientMsgID === second)));
    for (const s of sockets) {
      expect(
        s.pushes.filter((m) => m.clientMsgID === first),
        s.userID,
      ).toHaveLength(1);
      expect(
        s.pushes.filter((m) => m.clientMsgID === second),
        s.userID,
      ).toHaveLength(1);
    }
  });

  test("every member gets the same seq and clientMsgID; the ack has no seq and 1001 shows it soon after", {
    meta: {
      source: [
        "server:internal/rpc/msg/send.go SendMsg",
        "server:internal/push/push_handler.go Push2Group",
        "server:internal/rpc/msg/sync_msg.go GetMaxSeq",
        "docs/openim-protocol.md §2",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §2 "Response to 1003" (no seq), "Pushed MsgData already has seq set", GetMaxSeq
    const g = await newGroup(stack, { members: 2 });
    const sockets = await allOf(g.everyone, (u) => stack.connect(u));
    const t = unique("same for all");
    const arrivals = allOf(sockets, (ws) => nextPush(ws, text(t)));
    const ack = await sockets[0].sendText({ groupID: g.groupID, text: t });
    expect(Object.keys(ack)).not.toContain("seq");
    const got = await arrivals;
    expect(new Set(got.map((m) => m.clientMsgID))).toEqual(new Set([ack.clientMsgID]));
    expect(new Set(got.map((m) => m.seq)).size).toBe(1);
    const seq = got[0].seq;
    expect(seq).toBeGreaterThan(1); // seq 1 is the 1501 creation notice
    expect(
      await eventually(async () => (await groupMaxSeq(stack, g.members[1].userID, g.groupID)) >= seq, 3000),
    ).toBe(true);
  });

  test("messages from several members arrive at every member in one order, seqs strictly increasing", {
    meta: {
      source: [
        "server:pkg/common/storage/controller/msg_transfer.go BatchInsertChat2Cache",
        "docs/openim-protocol.md §2",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §2 "Seq assignment" (per conversation, previous max + 1) — server: controller/msg_transfer.go
    const g = await newGroup(stack, { admins: 1, members: 2 });
    const sockets = await Promise.all(g.everyone.map((u) => stack.connect(u)));
    const boxes = sockets.map((ws) => inbox(ws));
    const tag = unique("burst");
    const texts: string[] = [];
    await Promise.all(
      sockets.slice(0, 3).map(async (ws, i) => {
        for (let n = 0; n < 3; n++) {
          const t = `${tag} ${i}-${n}`;
          texts.push(t);
          await ws.sendText({ groupID: g.groupID, text: t });
        }
      }),
    );
    const mine = (box: ReceivedMsg[]) => box.filter((m) => decodeText(m)?.startsWith(tag));
    expect(await eventually(() => boxes.every((b) => mine(b).length === texts.length))).toBe(true);
    const orders = boxes.map((b) => mine(b).map((m) => `${m.seq}:${decodeText(m)}`));
    for (const order of orders) expect(order).toEqual(orders[0]);
    const seqs = mine(at(boxes, 0)).map((m) => m.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(at(seqs, i - 1) + 1);
  });

  test("a non-member's send is refused with 1203 and reaches nobody", {
    meta: { source: ["server:internal/rpc/msg/verify.go messageVerification", "docs/openim-protocol.md §5"] },
  }, async () => {
    // docs/openim-protocol.md §5 sender checks (6. not a member → 1203) — server: msg/verify.go messageVerification
    const g = await newGroup(stack, { members: 1 });
    const stranger = await stack.user();
    const [wOwner, wStranger] = await Promise.all([stack.connect(g.owner), stack.connect(stranger)]);
    const ownerGot = inbox(wOwner);
    const t = unique("gatecrash");
    await expect(wStranger.sendText({ groupID: g.groupID, text: t })).rejects.toMatchObject({
      errCode: 1203,
    });
    const barrier = unique("barrier");
    const seen = nextPush(wOwner, text(barrier));
    await wOwner.sendText({ groupID: g.groupID, text: barrier });
    await seen;
    expect(ownerGot.some(text(t))).toBe(false);
  });

  test("a send to an unknown groupID is refused with 1004", {
    meta: {
      source: [
        "server:internal/rpc/msg/verify.go messageVerification",
        "server:pkg/rpccache/group.go GetGroupInfo",
        "docs/openim-protocol.md §5",
      ],
      provokes: ["GroupLocalCache GetGroupInfo return"],
    },
  }, async () => {
    // docs/openim-protocol.md §5 sender checks (1. group lookup fails → 1004) — server: msg/verify.go, GroupLocalCache.GetGroupInfo
    // (the failed lookup is also an ERROR line in OpenIM's log: "GroupLocalCache GetGroupInfo return")
    const u = await stack.user();
    const ws = await stack.connect(u);
    await expect(ws.sendText({ groupID: `nogroup_${Date.now()}`, text: "hello?" })).rejects.toMatchObject({
      errCode: 1004,
    });
  });
});
