import { PbCoder } from "@openim/protocol";
import { describe, expect, it } from "vitest";
import {
  encodeDelUserPushTokenReq,
  encodeGetMaxSeqReq,
  encodeSetAppBackgroundStatusReq,
} from "./hand-coders.js";

// Each hand-written message is wire-identical to a generated one with the same field
// numbers and types, so the generated decoder checks the bytes.
describe("hand-written protobuf encoders", () => {
  it("GetMaxSeqReq{userID=1}", () => {
    const bytes = encodeGetMaxSeqReq({ userID: "user_ü_1" });
    expect(PbCoder.GetConversationsHasReadAndMaxSeqReq.decode(bytes)).toEqual({
      userID: "user_ü_1",
      conversationIDs: [],
    });
    expect(encodeGetMaxSeqReq({ userID: "" })).toHaveLength(0);
  });

  it("SetAppBackgroundStatusReq{userID=1, isBackground=2}", () => {
    expect(
      PbCoder.MsgData_OptionsEntry.decode(
        encodeSetAppBackgroundStatusReq({ userID: "u", isBackground: true }),
      ),
    ).toEqual({
      key: "u",
      value: true,
    });
    expect(
      PbCoder.MsgData_OptionsEntry.decode(
        encodeSetAppBackgroundStatusReq({ userID: "u", isBackground: false }),
      ),
    ).toEqual({
      key: "u",
      value: false,
    });
  });

  it("DelUserPushTokenReq{userID=1, platformID=2}", () => {
    for (const platformID of [1, 3, 10, 300]) {
      const decoded = PbCoder.GetActiveConversationsReq.decode(
        encodeDelUserPushTokenReq({ userID: "bob", platformID }),
      );
      expect(decoded).toEqual({ ownerUserID: "bob", count: platformID });
    }
  });
});
