import os from "node:os";
import type { TargetProfile } from "../conformance-runner/profile.js";
import type { StackEndpoints } from "../stack/endpoints.js";

/** Where numbers were measured, named in every results file so nobody mistakes them for production capacity. */
export interface RunEnvironment {
  stack: StackEndpoints["stack"];
  /** Whether cutover started the stack (local, docker) or only pointed at it (external). */
  startedByCutover: boolean;
  /** Whether the load generator runs on the machine that serves the stack. */
  generatorSharesMachine: boolean;
  parts: StackEndpoints["parts"];
  host: { cpus: number; cpuModel: string; memoryGiB: number; platform: string; node: string };
  caveats: string[];
}

const isLoopback = (url: string): boolean => {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
    return host === "localhost" || host.startsWith("127.") || host === "::1";
  } catch {
    return false;
  }
};

/** What the target does not offer, as every report should say (the cases that need it are skipped). */
function profileCaveats(profile: TargetProfile): string[] {
  const lines: string[] = [];
  if (!profile.adminAccess)
    lines.push(
      "admin calls are not allowed against this target: cases that need OpenIM's admin API are skipped",
    );
  if (!profile.redisAccess) lines.push("the target's Redis is not offered: imToken cache checks are skipped");
  if (!profile.localFiles)
    lines.push(
      "the stack's files (gateway config, server logs) are not readable: cases that need them are skipped",
    );
  if (!profile.moderationWebhooks)
    lines.push(
      "the gateway's moderation webhooks are not wired into OpenIM on this target: moderation cases are skipped",
    );
  return lines;
}

export function describeEnvironment(endpoints: StackEndpoints, profile?: TargetProfile): RunEnvironment {
  const caveats = endpoints.parts.filter((p) => p.note).map((p) => `${p.what}: ${p.note}`);
  const startedByCutover = endpoints.stack !== "external";
  const generatorSharesMachine = endpoints.stack === "local" || isLoopback(endpoints.nginx);
  if (endpoints.stack === "docker") {
    caveats.push(
      "docker stack: the official OpenIM image with real MongoDB, Redis, Kafka, etcd and MinIO, sized by compose defaults, not by production",
    );
  }
  if (generatorSharesMachine) {
    caveats.push(
      endpoints.stack === "external"
        ? "the load generator shares this machine with the target it measures (its edge is on loopback): numbers are not production capacity"
        : "the load generator shares this machine with the stack it measures: numbers are not production capacity",
    );
  } else if (endpoints.stack === "external") {
    caveats.push("the network between this machine and the target is part of every latency measured");
  }
  if (profile) caveats.push(...profileCaveats(profile));
  return {
    stack: endpoints.stack,
    startedByCutover,
    generatorSharesMachine,
    parts: endpoints.parts,
    host: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? "unknown",
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
    },
    caveats,
  };
}
