import { Counter, Gauge, type Registry } from "prom-client";

/**
 * The legacy pipeline's books, one set per service, each served on GET /metrics beside Node's
 * runtime metrics. Read together they follow a message through every hop: stored = published
 * (chat service) = consumed (consumer); fanned out = one Redis PUBLISH per recipient user;
 * received and pushed (websocket services) = one frame per recipient socket. Where two
 * neighbours differ, the failure counters and the "no subscriber" count say why.
 */

export function chatMetrics(register: Registry) {
  const registers = [register];
  return {
    register,
    stored: new Counter({
      name: "legacy_messages_stored_total",
      help: "Messages committed to Postgres under their conversation's next seq",
      registers,
    }),
    published: new Counter({
      name: "legacy_messages_published_total",
      help: "Delivery jobs RabbitMQ confirmed (one per stored message)",
      registers,
    }),
    sendFailures: new Counter({
      name: "legacy_send_failures_total",
      help: "Sends refused or failed, by reason: bad_request, unauthorized, not_member, not_found, store_failed, publish_failed (stored, never delivered), internal",
      labelNames: ["reason"] as const,
      registers,
    }),
  };
}

export function consumerMetrics(register: Registry) {
  const registers = [register];
  return {
    register,
    consumed: new Counter({
      name: "legacy_messages_consumed_total",
      help: "Delivery jobs taken off RabbitMQ, fanned out to Redis and acknowledged",
      registers,
    }),
    redelivered: new Counter({
      name: "legacy_messages_redelivered_total",
      help: "Delivery jobs RabbitMQ handed out again (an earlier attempt was never acknowledged)",
      registers,
    }),
    fannedOut: new Counter({
      name: "legacy_messages_fanned_out_total",
      help: "Redis PUBLISHes Redis took, one per recipient user of a job",
      registers,
    }),
    noSubscriber: new Counter({
      name: "legacy_fanout_no_subscriber_total",
      help: "PUBLISHes no websocket service was subscribed to: the recipient was connected nowhere",
      registers,
    }),
    failures: new Counter({
      name: "legacy_consume_failures_total",
      help: "Delivery jobs not completed, by reason: malformed (dropped), redis (requeued)",
      labelNames: ["reason"] as const,
      registers,
    }),
  };
}

export function websocketMetrics(register: Registry) {
  const registers = [register];
  return {
    register,
    received: new Counter({
      name: "legacy_messages_received_total",
      help: "Messages this process got from Redis pub/sub on a user's channel",
      registers,
    }),
    pushed: new Counter({
      name: "legacy_messages_pushed_total",
      help: "Message frames written to a client socket, one per recipient socket",
      registers,
    }),
    pushFailures: new Counter({
      name: "legacy_push_failures_total",
      help: "Message frames not written, by reason: not_open (socket closing), write_error",
      labelNames: ["reason"] as const,
      registers,
    }),
    connections: new Gauge({
      name: "legacy_online_connections",
      help: "Client WebSocket connections open on this process",
      registers,
    }),
    users: new Gauge({
      name: "legacy_online_users",
      help: "Users with at least one connection on this process (each one a Redis channel subscribed)",
      registers,
    }),
    refused: new Counter({
      name: "legacy_connections_refused_total",
      help: "WebSocket upgrades refused for a missing or invalid JWT",
      registers,
    }),
  };
}

export type ChatMetrics = ReturnType<typeof chatMetrics>;
export type ConsumerMetrics = ReturnType<typeof consumerMetrics>;
export type WebsocketMetrics = ReturnType<typeof websocketMetrics>;
