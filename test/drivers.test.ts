import { afterAll, describe, expect, inject, test } from "vitest";
import type { ChatDriver, InboundMessage } from "../src/drivers/driver.js";
import { legacyDriver } from "../src/drivers/legacy-driver.js";
import { openimDirectDriver } from "../src/drivers/openim-direct-driver.js";
import { openimDriver } from "../src/drivers/openim-driver.js";

// The driver interface is what the load engine and the suites use; each driver must give the same behaviour.
const endpoints = inject("endpoints");
const drivers: ChatDriver[] = [
  openimDriver(endpoints),
  openimDirectDriver(endpoints),
  ...(endpoints.legacy ? [legacyDriver(endpoints)] : []),
];
afterAll(async () => {
  await Promise.all(drivers.map((d) => d.close()));
});

function collect(): {
  inbox: InboundMessage[];
  onMessage: (m: InboundMessage) => void;
  waitFor: (match: (m: InboundMessage) => boolean) => Promise<void>;
} {
  const inbox: InboundMessage[] = [];
  return {
    inbox,
    onMessage: (m) => inbox.push(m),
    async waitFor(match) {
      for (let i = 0; i < 100 && !inbox.some(match); i++) await new Promise((r) => setTimeout(r, 50));
    },
  };
}

describe.each(drivers.map((d) => [d.name, d] as const))("the %s driver", (_name, driver) => {
  test("a user it logs in can send to another, who receives the text once with a seq", async () => {
    const [a, b] = await driver.createUsers(2, "drv");
    const sa = await driver.login(a!);
    const sb = await driver.login(b!);
    const bob = collect();
    await sa.connect(() => {});
    await sb.connect(bob.onMessage);
    const ack = await sa.send({ userID: b!.userID }, "through the driver");
    await bob.waitFor((m) => m.clientMsgID === ack.clientMsgID);
    await new Promise((r) => setTimeout(r, 200)); // a duplicate would arrive in this window
    expect(bob.inbox).toHaveLength(1);
    expect(bob.inbox[0]).toMatchObject({
      sendID: a!.userID,
      clientMsgID: ack.clientMsgID,
      text: "through the driver",
      seq: 1,
    });
    await Promise.all([sa.disconnect(), sb.disconnect()]);
  });

  test("a group it creates fans a message out to every member exactly once", async () => {
    const [owner, ...members] = await driver.createUsers(4, "grp");
    const groupID = await driver.createGroup(owner!, members);
    const sessions = await Promise.all([owner!, ...members].map((u) => driver.login(u)));
    const inboxes = sessions.map(() => collect());
    await Promise.all(sessions.map((s, i) => s.connect(inboxes[i]!.onMessage)));
    const ack = await sessions[0]!.send({ groupID }, "to everyone");
    for (const box of inboxes) await box.waitFor((m) => m.clientMsgID === ack.clientMsgID);
    await new Promise((r) => setTimeout(r, 200));
    for (const box of inboxes) {
      const copies = box.inbox.filter((m) => m.clientMsgID === ack.clientMsgID);
      expect(copies).toHaveLength(1);
      expect(copies[0]).toMatchObject({ conversationID: `sg_${groupID}`, text: "to everyone" });
    }
    await Promise.all(sessions.map((s) => s.disconnect()));
  });
});
