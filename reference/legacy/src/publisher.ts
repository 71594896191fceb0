import { type Channel, type ChannelModel, type ConfirmChannel, connect } from "amqplib";
import { DELIVERY_EXCHANGE, DELIVERY_QUEUE, DELIVERY_ROUTING_KEY, type DeliveryJob } from "./protocol.js";

/** The exchange, the durable queue and their binding; both the chat service and the consumer declare them. */
export async function declareTopology(channel: Channel): Promise<void> {
  await channel.assertExchange(DELIVERY_EXCHANGE, "direct", { durable: true });
  await channel.assertQueue(DELIVERY_QUEUE, { durable: true });
  await channel.bindQueue(DELIVERY_QUEUE, DELIVERY_EXCHANGE, DELIVERY_ROUTING_KEY);
}

/**
 * Publishes delivery jobs as persistent messages on a confirm channel: a send is
 * acknowledged to the client only once RabbitMQ has taken responsibility for it.
 */
export async function deliveryPublisher(url: string): Promise<{
  connection: ChannelModel;
  publish: (job: DeliveryJob) => Promise<void>;
  close: () => Promise<void>;
}> {
  const connection = await connect(url);
  const channel: ConfirmChannel = await connection.createConfirmChannel();
  await declareTopology(channel);
  return {
    connection,
    publish: (job) =>
      new Promise<void>((resolve, reject) => {
        channel.publish(
          DELIVERY_EXCHANGE,
          DELIVERY_ROUTING_KEY,
          Buffer.from(JSON.stringify(job)),
          { persistent: true, contentType: "application/json" },
          (err: unknown) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()),
        );
      }),
    close: async () => {
      await channel.close().catch(() => {});
      await connection.close().catch(() => {});
    },
  };
}
