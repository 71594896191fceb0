import { describe, expect, it } from "vitest";
import { decodeText, decodeTextContent, encodeTextContent } from "./content.js";

describe("text content", () => {
  it('round-trips as {"content": text}', () => {
    const bytes = encodeTextContent('quote " and ✓');
    expect(Buffer.from(bytes).toString("utf8")).toBe('{"content":"quote \\" and ✓"}');
    expect(decodeTextContent(bytes)).toBe('quote " and ✓');
  });

  it("returns undefined for other shapes", () => {
    expect(decodeTextContent(Buffer.from("not json"))).toBeUndefined();
    expect(decodeTextContent(Buffer.from('{"data":"x"}'))).toBeUndefined();
    expect(decodeTextContent(Buffer.from('{"content":5}'))).toBeUndefined();
    expect(decodeTextContent(Uint8Array.from([0xff, 0xfe]))).toBeUndefined();
  });

  it("decodeText only reads text messages", () => {
    const content = encodeTextContent("hi");
    expect(decodeText({ contentType: 101, content })).toBe("hi");
    expect(decodeText({ contentType: 110, content })).toBeUndefined();
  });
});
