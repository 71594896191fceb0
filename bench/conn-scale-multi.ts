/**
 * Idle connections beyond one process's open-file limit (20,000 here, and it cannot be
 * raised): K generator processes, each with its own mini chat server and its own 127.x
 * source addresses, connect N/K each and hold them; the connections count as held together
 * only if every generator reported ready while all the others were still holding.
 *
 *   node --expose-gc --import tsx bench/conn-scale-multi.ts --connections 51000 --processes 3
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { outputLocations } from "../src/run/output-locations.js";

const { values: args } = parseArgs({
  options: {
    connections: { type: "string", default: "51000" },
    processes: { type: "string", default: "3" },
    "hold-ms": { type: "string", default: "60000" },
    out: { type: "string" },
  },
});
const total = Number(args.connections);
const k = Number(args.processes);
const holdMs = Number(args["hold-ms"]);
const per = Math.ceil(total / k);

interface Child {
  ready?: { connected: number; at: number };
  result?: { engineConnected: number; engineBytesPerConnection: number; bareWsBytesPerConnection: number };
}

const children: Child[] = [];
await Promise.all(
  Array.from({ length: k }, (_, i) => {
    const state: Child = {};
    children.push(state);
    const child = spawn(
      process.execPath,
      [
        "--expose-gc",
        "--import",
        "tsx",
        "bench/conn-scale.ts",
        "--connections",
        String(per),
        "--sources",
        "4",
        "--source-base",
        String(2 + i * 4),
        "--hold-ms",
        String(holdMs),
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      const m = /ready (\d+) (\d+)/.exec(d.toString());
      if (m) {
        state.ready = { connected: Number(m[1]), at: Number(m[2]) };
        process.stderr.write(`generator ${i + 1}: ${m[1]} connections up\n`);
      }
    });
    return new Promise<void>((resolve) =>
      child.once("close", () => {
        try {
          state.result = JSON.parse(out);
        } catch {
          process.stderr.write(`generator ${i + 1} gave no result\n`);
        }
        resolve();
      }),
    );
  }),
);

const readies = children.map((c) => c.ready).filter((r): r is NonNullable<Child["ready"]> => r !== undefined);
const spread =
  readies.length > 0
    ? Math.max(...readies.map((r) => r.at)) - Math.min(...readies.map((r) => r.at))
    : Number.NaN;
const result = {
  kind: "cutover-bench-connections",
  at: new Date().toISOString(),
  processes: k,
  target:
    "mini chat servers (raw ws, one process per generator), not OpenIM: its gateway has the same 20,000 open-file limit here",
  requested: total,
  heldTogether: readies.length === k && spread < holdMs ? readies.reduce((s, r) => s + r.connected, 0) : 0,
  readySpreadMs: spread,
  perProcess: children.map((c) => c.result),
};
const file =
  args.out ?? path.join(outputLocations.benchResults, `connections-${result.at.replace(/[:.]/g, "-")}.json`);
mkdirSync(path.dirname(file), { recursive: true });
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result, null, 2)}\nbench results: ${file}\n`);
