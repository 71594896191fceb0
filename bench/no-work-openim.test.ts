import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { InboundMessage } from "../src/drivers/driver.js";
import { openimDirectDriver } from "../src/drivers/openim-direct-driver.js";
import { type NoWorkServer, noWorkEndpoints, startNoWorkServer } from "./no-work-openim.js";

/** The no-work server is an interface other tools are built against: the openim-direct driver must work on it unchanged. */
describe("no-work OpenIM server", () => {
  let server: NoWorkServer;
  beforeAll(async () => {
    server = await startNoWorkServer();
  });
  afterAll(() => server.close());

  const waitFor = async (cond: () => boolean) => {
    for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
  };

  test("a single-chat send is acked and pushed to the recipient with rising seqs", async () => {
    const driver = openimDirectDriver(noWorkEndpoints(server));
    const [a, b] = await driver.createUsers(2, "nw");
    if (!a || !b) throw new Error("no users");
    const sa = await driver.login(a);
    const sb = await driver.login(b);
    const got: InboundMessage[] = [];
    await sa.connect(() => {});
    await sb.connect((m) => got.push(m));
    const ack1 = await sa.send({ userID: b.userID }, "hello");
    await sa.send({ userID: b.userID }, "again");
    expect(ack1.serverMsgID).toBeTruthy();
    expect(ack1.serverTime).toBeGreaterThan(0);
    await waitFor(() => got.length === 2);
    expect(got.map((m) => [m.text, m.seq, m.sendID])).toEqual([
      ["hello", 1, a.userID],
      ["again", 2, a.userID],
    ]);
    expect(got[0]?.conversationID).toMatch(/^si_/);
    await sa.disconnect();
    await sb.disconnect();
    await driver.close();
  });

  test("a group send reaches every other member of a group created through the REST route", async () => {
    const driver = openimDirectDriver(noWorkEndpoints(server));
    const users = await driver.createUsers(4, "nwg");
    const [owner, ...members] = users;
    if (!owner) throw new Error("no users");
    const groupID = await driver.createGroup(owner, members);
    const got = new Map<string, number>();
    const sessions = [];
    for (const u of users) {
      const s = await driver.login(u);
      await s.connect(() => got.set(u.userID, (got.get(u.userID) ?? 0) + 1));
      sessions.push(s);
    }
    await sessions[0]?.send({ groupID }, "to all");
    await waitFor(() => got.size === 3);
    expect([...got.keys()].sort()).toEqual(members.map((m) => m.userID).sort());
    for (const s of sessions) await s.disconnect();
    await driver.close();
  });
});
