import http from "node:http";
import { connect } from "amqplib";
import { Redis } from "ioredis";
import { processRegistry, writeMetrics } from "../../gateway/src/process-metrics.js";
import { readLegacyConfig } from "./config.js";
import { consumerMetrics } from "./legacy-metrics.js";
import { DELIVERY_QUEUE, deliveryJobSchema, userChannel } from "./protocol.js";
import { declareTopology } from "./publisher.js";
import { fatal, runService } from "./service.js";

/**
 * `legacy-consumer --config legacy.json`: takes delivery jobs off RabbitMQ and publishes
 * each message to Redis, once per recipient, on that user's own channel
 * (`legacy:user:<userID>`). A job is acknowledged only after Redis took every publish,
 * so a consumer that dies mid-job leaves it to be redelivered (at least once). Its small
 * HTTP server answers /healthz and /metrics.
 */
runService("legacy-consumer", async () => {
  const config = readLegacyConfig(process.argv);
  const redis = new Redis(config.redis, { maxRetriesPerRequest: 2 });
  const connection = await connect(config.amqp);
  connection.on("close", fatal("legacy-consumer", "RabbitMQ connection closed"));
  connection.on("error", () => {}); // followed by "close"
  const channel = await connection.createChannel();
  await declareTopology(channel);
  await channel.prefetch(config.prefetch);
  const counts = { jobs: 0, published: 0, malformed: 0, failed: 0 };
  const metrics = consumerMetrics(processRegistry());
  // While stopping, the channel may close under a job still in flight; RabbitMQ redelivers it.
  const settle = (ack: () => void): boolean => {
    try {
      ack();
      return true;
    } catch {
      return false; // channel closed
    }
  };
  const { consumerTag } = await channel.consume(
    DELIVERY_QUEUE,
    (msg) => {
      if (!msg) return fatal("legacy-consumer", "RabbitMQ cancelled the consumer")();
      if (msg.fields.redelivered) metrics.redelivered.inc();
      let job: ReturnType<typeof deliveryJobSchema.parse>;
      try {
        job = deliveryJobSchema.parse(JSON.parse(msg.content.toString("utf8")));
      } catch {
        counts.malformed += 1;
        metrics.failures.inc({ reason: "malformed" });
        channel.nack(msg, false, false); // a job no consumer can read is dropped, not retried forever
        return;
      }
      const pipeline = redis.pipeline();
      for (const userID of job.recipients) pipeline.publish(userChannel(userID), job.frame);
      const requeue = () => {
        counts.failed += 1;
        metrics.failures.inc({ reason: "redis" });
        settle(() => channel.nack(msg, false, true));
      };
      pipeline.exec().then((results) => {
        // exec resolves even when single commands failed: each PUBLISH's own [error, receivers].
        const took = (results ?? []).filter(([err]) => !err);
        metrics.fannedOut.inc(took.length);
        metrics.noSubscriber.inc(took.filter(([, receivers]) => receivers === 0).length);
        // Not every recipient's PUBLISH went through: the whole job again (those that did get it twice).
        if (took.length < job.recipients.length) return requeue();
        counts.jobs += 1;
        counts.published += job.recipients.length;
        // Consumed once acknowledged; a job whose ack found the channel closed comes back to someone.
        if (settle(() => channel.ack(msg))) metrics.consumed.inc();
      }, requeue);
    },
    { noAck: false },
  );
  const health = http.createServer((req, res) => {
    if (req.url === "/metrics") return writeMetrics(metrics.register, res);
    if (req.url !== "/healthz") {
      res.writeHead(404).end();
      return;
    }
    redis.ping().then(
      () =>
        res
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ ok: true, ...counts })),
      () =>
        res
          .writeHead(503, { "content-type": "application/json" })
          .end(JSON.stringify({ ok: false, redis: false })),
    );
  });
  await new Promise<void>((resolve, reject) => {
    health.once("error", reject);
    health.listen(config.consumer.port, config.consumer.host, resolve);
  });
  return {
    address: `http://${config.consumer.host}:${config.consumer.port} (consuming ${DELIVERY_QUEUE})`,
    stop: async () => {
      connection.removeAllListeners("close");
      await channel.cancel(consumerTag).catch(() => {});
      await connection.close().catch(() => {});
      health.close();
      redis.disconnect();
    },
  };
});
