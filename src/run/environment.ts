import os from "node:os";
import type { StackEndpoints } from "../stack/endpoints.js";

/** Where numbers were measured, named in every results file so nobody mistakes them for production capacity. */
export interface RunEnvironment {
  stack: StackEndpoints["stack"];
  parts: StackEndpoints["parts"];
  host: { cpus: number; cpuModel: string; memoryGiB: number; platform: string; node: string };
  caveats: string[];
}

export function describeEnvironment(endpoints: StackEndpoints): RunEnvironment {
  const caveats = endpoints.parts.filter((p) => p.note).map((p) => `${p.what}: ${p.note}`);
  if (endpoints.stack === "local") {
    caveats.push(
      "the load generator shares this machine with the stack it measures: numbers are not production capacity",
    );
  }
  return {
    stack: endpoints.stack,
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
