/**
 * What a conformance case tells the reports about itself, set with vitest's test options:
 *   test("…", { meta: { source: ["server:internal/rpc/msg/send.go sendMsgSingleChat"] } }, async () => …)
 */
declare module "@vitest/runner" {
  interface TaskMeta {
    /**
     * The OpenIM source (or gateway/legacy file) the behaviour is read from, as
     * `server:<path> [symbol]`, `proto:…`, `tools:…`, `sdk:…`, `gateway:…`, `docs/openim-protocol.md §N`.
     */
    source?: string[];
    /**
     * Server log lines this case provokes on purpose (a forged token, a refused send): substrings,
     * matched against ERROR lines logged while the case ran, so the report tells them apart
     * from errors no case explains.
     */
    provokes?: string[];
  }
}

export {};
