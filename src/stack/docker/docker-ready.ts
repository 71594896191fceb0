import { errorMessage } from "../../util/errors.js";
import { waitFor } from "../../util/time.js";
import type { StackEndpoints } from "../endpoints.js";
import { tcpOpen } from "../local/net-probes.js";
import { openimAnswers, openimDelivers } from "../local/openim-ready.js";
import { type ProgressSink, step } from "../progress.js";
import { type ProjectContainer, projectContainers } from "./docker-engine.js";

/**
 * A docker stack is ready by the local stack's definition, not by one health check: every
 * compose service's container runs and is healthy, each OpenIM RPC service behind the API
 * answers, the message gateway's port accepts connections, and a canary message goes sender →
 * nginx → msg gateway → Kafka → msgtransfer → push → receiver. The last matters most: OpenIM's
 * Kafka consumers join at the newest offset a moment after they start, and a fresh stack that
 * took messages before then dropped them. The probes are the local stack's own (openim-ready.ts,
 * net-probes.ts), pointed at the published ports.
 */

/** What is not running and healthy yet, per service; empty when every service is. */
export function servicesNotHealthy(services: string[], containers: ProjectContainer[]): string[] {
  return services.flatMap((service) => {
    const mine = containers.filter((c) => c.service === service);
    if (mine.length === 0) return [`${service}: no container`];
    return mine.flatMap((c) => {
      if (c.state !== "running") return [`${service}: ${c.state}`];
      // A service without a health check is as ready as running makes it (compose.yaml gives each one).
      if (c.health !== undefined && c.health !== "healthy") return [`${service}: ${c.health}`];
      return [];
    });
  });
}

const portOf = (url: string) => Number(new URL(url.replace(/^ws/, "http")).port);
const hostOf = (url: string) => new URL(url.replace(/^ws/, "http")).hostname;

export interface DockerReadyInput {
  projectName: string;
  services: string[];
  endpoints: StackEndpoints;
  timeoutMs: number;
  progress: ProgressSink;
}

/** Resolves once the stack is ready; rejects with what was not (the caller makes it one line). */
export async function waitDockerReady(input: DockerReadyInput): Promise<void> {
  const { endpoints, timeoutMs, progress } = input;
  await step(progress, "every service healthy", async () => {
    await waitFor(
      "compose services",
      async () => {
        const pending = servicesNotHealthy(input.services, await projectContainers(input.projectName));
        if (pending.length > 0) throw new Error(pending.join(", "));
        return true;
      },
      { timeoutMs, intervalMs: 1000 },
    );
  });
  await step(progress, "OpenIM's RPC services and message gateway", async () => {
    await waitFor(
      "OpenIM",
      async () => {
        await openimAnswers(endpoints.openimApi, endpoints.adminSecret, endpoints.adminUserID);
        for (const url of [endpoints.openimWs, endpoints.nginx])
          if (!(await tcpOpen(portOf(url), hostOf(url))))
            throw new Error(`nothing accepts connections at ${url}`);
        return true;
      },
      { timeoutMs, intervalMs: 500 },
    );
  });
  await step(
    progress,
    "message path (a canary delivered through nginx and Kafka)",
    () =>
      openimDelivers(
        endpoints.openimApi,
        endpoints.wsURL,
        endpoints.adminSecret,
        endpoints.adminUserID,
        timeoutMs,
      ).catch((err: unknown) => {
        throw new Error(`OpenIM does not deliver: ${errorMessage(err)}`);
      }),
    (sends) => `after ${sends} send${sends === 1 ? "" : "s"}`,
  );
}
