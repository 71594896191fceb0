import { UsageError } from "../util/errors.js";

/**
 * The faults the resilience suite runs, each with what OpenIM promises about it (from its
 * source, cited) so a measured outcome is read against a promise, not against a hope. `{at}`
 * stands for when the fault strikes; the suite fills it in from the run's length.
 */
export interface ResilienceCase {
  /** A `--fault` as a user writes it, with `{at}` for the instant. */
  fault: string;
  /** The part that fails, as reports name it. */
  part: string;
  promise: string;
  source: string[];
  /** Measured against no loss of acknowledged messages (else only recorded). */
  expectNoAckedLoss: boolean;
  /** Slow or disruptive beyond the fault itself: run by `cutover resilience --all` or `run --resilience`. */
  slow: boolean;
}

export const RESILIENCE_CASES: ResilienceCase[] = [
  {
    fault: "restart:msgtransfer@{at}+2s",
    part: "openim-msgtransfer",
    promise:
      "a message OpenIM acked is in Kafka; msgtransfer's consumer group commits an offset only after a batch is handled, so what was acked while it was down is stored and pushed after it returns: delivered late, none lost",
    source: [
      "server:internal/msgtransfer/online_history_msg_handler.go ConsumeClaim (MarkMessage + Commit on batch completion)",
    ],
    expectNoAckedLoss: true,
    slow: false,
  },
  {
    fault: "restart:push@{at}+2s",
    part: "openim-push",
    promise:
      "push's consumer group marks a message only after handling it; pushes owed while it was down arrive after it returns, and anything missed is pulled by seq",
    source: ["server:internal/push/push_handler.go ConsumeClaim (MarkMessage after handleMs2PsChat)"],
    expectNoAckedLoss: true,
    slow: true,
  },
  {
    fault: "restart:msggateway@{at}+1s",
    part: "openim-msggateway",
    promise:
      "every socket drops; clients reconnect and pull what they missed by seq — a send in flight may fail, an acked message is not lost",
    source: ["server:internal/msggateway/ws_server.go", "docs/openim-protocol.md (pull by seq)"],
    expectNoAckedLoss: true,
    slow: false,
  },
  {
    fault: "partition:kafka@{at}+3s",
    part: "kafka",
    promise:
      "the msg RPC answers a send only after Kafka took it, so sends fail or wait while Kafka is cut off, and what was acked is delivered once the link returns",
    source: ["server:pkg/common/storage/controller/msg.go MsgToMQ (synchronous produce before the ack)"],
    expectNoAckedLoss: true,
    slow: false,
  },
  {
    fault: "partition:redis@{at}+3s",
    part: "redis",
    promise:
      "msgtransfer allocates seqs and caches each batch in Redis before it is stored and pushed; OpenIM states no retry for a batch that fails while Redis is cut off — recorded, not judged",
    source: [
      "server:internal/msgtransfer/online_history_msg_handler.go (BatchInsertChat2Cache)",
      "server:pkg/common/storage/cache/redis/seq_conversation.go",
    ],
    expectNoAckedLoss: false,
    slow: true,
  },
  {
    fault: "restart:redis@{at}",
    part: "redis",
    promise:
      "the local stack's Redis keeps nothing on disk, so a restart loses every token and cached message: open sockets stay up, acked messages are in Mongo; OpenIM promises nothing more (the reference gateway keeps its accounts there too: they are gone)",
    source: ["cutover:src/stack/local/services.ts (redis --save '' --appendonly no)"],
    expectNoAckedLoss: false,
    slow: true,
  },
  {
    fault: "restart:kafka@{at}+2s",
    part: "kafka",
    promise:
      "the broker keeps its log on disk (KRaft, the run dir), so what OpenIM produced before the crash is consumed after it returns; sends fail while it is down",
    source: [
      "server:pkg/common/storage/controller/msg.go MsgToMQ",
      "cutover:src/stack/local/kafka.ts (log.dirs in the run dir)",
    ],
    expectNoAckedLoss: true,
    slow: true,
  },
  {
    fault: "restart:etcd@{at}+1s",
    part: "etcd",
    promise:
      "etcd is OpenIM's service discovery; established gRPC connections do not need it, so messaging goes on while it is down",
    source: ["server:pkg/common/discoveryregister/discoveryregister.go (etcd via openimsdk/tools)"],
    expectNoAckedLoss: true,
    slow: true,
  },
  {
    fault: "restart:mongo@{at}+1s",
    part: "mongo",
    promise:
      "the MongoDB stand-in keeps data in memory unless stack.local.mongo.persist is set: a restart loses every stored message and seq, which a real mongod would not — recorded, not judged",
    source: ["cutover:builds/mongo-standin (in-memory unless --h2)"],
    expectNoAckedLoss: false,
    slow: true,
  },
  {
    fault: "restart:rpc-msg@{at}+1s",
    part: "openim-rpc-msg",
    promise:
      "sends fail while the msg RPC is down (the API and gateway get no answer); nothing acked is affected",
    source: ["server:internal/rpc/msg/send.go"],
    expectNoAckedLoss: true,
    slow: true,
  },
  {
    fault: "restart:gateway@{at}+1s",
    part: "gateway",
    promise:
      "the before-send webhook is synchronous and v3.8.3 ignores failedContinue: every send fails while the gateway is down, then sends pass again",
    source: [
      "server:internal/rpc/msg/callback.go webhookBeforeSendSingleMsg",
      "server:pkg/common/config/config.go FailedContinue (declared, read nowhere)",
    ],
    expectNoAckedLoss: true,
    slow: true,
  },
  {
    fault: "reload:nginx@{at}",
    part: "nginx",
    promise:
      "a reload starts new workers and lets the old ones finish: established WebSockets stay on the old workers until they close; nothing is lost",
    source: ["nginx: SIGHUP (graceful reconfiguration)"],
    expectNoAckedLoss: true,
    slow: true,
  },
];

/** The cases a run asks for: the quick ones, all of them, or those of the parts named. */
export function casesToRun(all: boolean, parts: string[] = []): ResilienceCase[] {
  if (parts.length === 0) return all ? RESILIENCE_CASES : RESILIENCE_CASES.filter((c) => !c.slow);
  const named = (c: ResilienceCase, p: string) => c.part === p || c.part === `openim-${p}`;
  const unknown = parts.filter((p) => !RESILIENCE_CASES.some((c) => named(c, p)));
  if (unknown.length > 0)
    throw new UsageError(
      `no resilience case for ${unknown.join(", ")} (there are: ${[...new Set(RESILIENCE_CASES.map((c) => c.part))].join(", ")})`,
    );
  return RESILIENCE_CASES.filter((c) => parts.some((p) => named(c, p)));
}
