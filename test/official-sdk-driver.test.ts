import { afterAll, describe, expect, inject, test } from "vitest";
import type { InboundMessage } from "../src/drivers/driver.js";
import type { SdkSession } from "../src/drivers/official-sdk/sdk-session.js";
import { officialSdkDriver } from "../src/drivers/official-sdk-driver.js";
import { nowUs, perfToUs } from "../src/metrics/clock.js";
import { singleConversationID } from "../src/protocol/index.js";

// The official-sdk driver against the real stack: the same behaviour test/drivers.test.ts
// asks of the protocol drivers, with the SDK's own differences spelled out.
const endpoints = inject("endpoints");
const driver = officialSdkDriver(endpoints);
afterAll(() => driver.close());

function collect() {
  const inbox: InboundMessage[] = [];
  return {
    inbox,
    onMessage: (m: InboundMessage) => inbox.push(m),
    async waitFor(match: (m: InboundMessage) => boolean) {
      for (let i = 0; i < 100 && !inbox.some(match); i++) await new Promise((r) => setTimeout(r, 50));
    },
  };
}

describe("the official-sdk driver (native SDK, one process per user)", () => {
  test("a user it logs in can send to another, who receives the text once with a seq, at the SDK callback's time", async () => {
    const [a, b] = await driver.createUsers(2, "sdkdrv");
    const [sa, sb] = await Promise.all([driver.login(a!), driver.login(b!)]);
    const bob = collect();
    await Promise.all([sa!.connect(() => {}), sb!.connect(bob.onMessage)]);
    // connect() is the SDK's login, through to OnConnectSuccess + OnSyncServerFinish.
    expect((sb as SdkSession).timings?.readyMs).toBeGreaterThan(0);
    const before = nowUs();
    const ack = await sa!.send({ userID: b!.userID }, "through the SDK");
    await bob.waitFor((m) => m.clientMsgID === ack.clientMsgID);
    await new Promise((r) => setTimeout(r, 200)); // a duplicate would arrive in this window
    expect(bob.inbox).toHaveLength(1);
    expect(bob.inbox[0]).toMatchObject({
      sendID: a!.userID,
      clientMsgID: ack.clientMsgID,
      conversationID: singleConversationID(a!.userID, b!.userID),
      text: "through the SDK",
      seq: 1,
    });
    // receivedAt is this thread's performance.now() at the SDK's callback: after the send began, not in the future.
    const arrivedUs = perfToUs(bob.inbox[0]!.receivedAt);
    expect(arrivedUs).toBeGreaterThan(before);
    expect(arrivedUs).toBeLessThanOrEqual(nowUs());
    await Promise.all([sa!.disconnect(), sb!.disconnect()]);
  });

  test("a group it creates fans a message out to every other member exactly once (the SDK does not echo the sender's own)", async () => {
    const [owner, ...members] = await driver.createUsers(3, "sdkgrp");
    const groupID = await driver.createGroup(owner!, members);
    const sessions = await Promise.all([owner!, ...members].map((u) => driver.login(u)));
    const inboxes = sessions.map(() => collect());
    await Promise.all(sessions.map((s, i) => s.connect(inboxes[i]!.onMessage)));
    const ack = await sessions[0]!.send({ groupID }, "to everyone");
    for (const box of inboxes.slice(1)) await box.waitFor((m) => m.clientMsgID === ack.clientMsgID);
    await new Promise((r) => setTimeout(r, 200));
    for (const box of inboxes.slice(1)) {
      const copies = box.inbox.filter((m) => m.clientMsgID === ack.clientMsgID);
      expect(copies).toHaveLength(1);
      expect(copies[0]).toMatchObject({ conversationID: `sg_${groupID}`, text: "to everyone" });
    }
    // Only users' messages reach onMessage: the group-created notification does not.
    for (const box of inboxes) expect(box.inbox.every((m) => m.text !== undefined)).toBe(true);
    expect(inboxes[0]!.inbox.filter((m) => m.clientMsgID === ack.clientMsgID)).toHaveLength(0);
    await Promise.all(sessions.map((s) => s.disconnect()));
  });

  test("it refuses more users than it is meant for, before creating any", async () => {
    const small = officialSdkDriver(endpoints, { maxUsers: 2 });
    try {
      await expect(small.createUsers(3)).rejects.toThrow(/at most 2/);
    } finally {
      await small.close();
    }
  });
});
