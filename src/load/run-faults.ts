import {
  armProcessFault,
  FaultError,
  type LocalStackView,
  type ProcessFault,
  prepareProcessFault,
} from "../faults/process-faults.js";
import type { StackEndpoints } from "../stack/endpoints.js";
import { isAlive } from "../stack/local/processes.js";
import { parseDuration } from "./duration.js";
import { addLatency, ensureToxiproxy, proxyFor, type RunningToxiproxy, startToxiproxy } from "./toxiproxy.js";

/**
 * Faults a run can inject into the local stack's message path:
 *   latency:5ms[~1ms]   Toxiproxy in front of OpenIM's message gateway, latency (± jitter) on what it sends back
 *   reset@10s[+500ms]   Toxiproxy resets every connection through it at 10 s, for 500 ms (clients reconnect)
 *   stall:1s@10s        SIGSTOP OpenIM's message gateway process at 10 s, SIGCONT 1 s later: a full stall
 * Toxiproxy sits on `openimWs`, the address the openim-direct driver dials; the openim driver
 * takes its WebSocket address from the gateway's login answer, so only `stall` reaches it.
 * And on any part of the local stack (src/faults/process-faults.ts):
 *   kill:msgtransfer@10s  restart:redis@10s[+2s]  partition:kafka@10s+5s  reload:nginx@10s
 */
export type Fault =
  | { kind: "latency"; ms: number; jitterMs: number }
  | { kind: "reset"; atMs: number; forMs: number }
  | { kind: "stall"; atMs: number; forMs: number }
  | ProcessFault;

export { FaultError };

const isProcessFault = (f: Fault): f is ProcessFault =>
  f.kind === "kill" || f.kind === "restart" || f.kind === "partition" || f.kind === "reload";

function ms(text: string | undefined, what: string): number {
  const v = text === undefined ? undefined : parseDuration(text);
  if (v === undefined) throw new FaultError(`fault ${what}: "${text}" is not a duration`);
  return v;
}

export function parseFault(text: string): Fault {
  let m = /^latency:([^~]+)(?:~(.+))?$/.exec(text);
  if (m) return { kind: "latency", ms: ms(m[1], text), jitterMs: m[2] ? ms(m[2], text) : 0 };
  m = /^reset@([^+]+)(?:\+(.+))?$/.exec(text);
  if (m) return { kind: "reset", atMs: ms(m[1], text), forMs: m[2] ? ms(m[2], text) : 500 };
  m = /^stall:([^@]+)@(.+)$/.exec(text);
  if (m) return { kind: "stall", forMs: ms(m[1], text), atMs: ms(m[2], text) };
  m = /^(kill|reload):([\w-]+)@([^+]+)$/.exec(text);
  if (m?.[1] && m[2]) return { kind: m[1] as "kill" | "reload", target: m[2], atMs: ms(m[3], text) };
  m = /^restart:([\w-]+)@([^+]+)(?:\+(.+))?$/.exec(text);
  if (m?.[1])
    return { kind: "restart", target: m[1], atMs: ms(m[2], text), downMs: m[3] ? ms(m[3], text) : 0 };
  m = /^partition:([\w-]+)@([^+]+)\+(.+)$/.exec(text);
  if (m?.[1]) return { kind: "partition", target: m[1], atMs: ms(m[2], text), forMs: ms(m[3], text) };
  throw new FaultError(
    `fault "${text}": expected latency:5ms, reset@10s, stall:1s@10s, kill:<part>@10s, restart:<part>@10s[+2s], partition:<part>@10s+5s or reload:nginx@10s`,
  );
}

export interface ArmedFaults {
  /** The endpoints the drivers should use (openimWs through Toxiproxy when a proxy fault is asked for). */
  endpoints: StackEndpoints;
  /** Starts the timed faults `offsetMs` from now (where the phase's schedule starts); returns their undo. */
  arm(onEvent: (what: string) => void, offsetMs: number): () => void;
  close(): Promise<void>;
  describe: string[];
}

const MSG_GATEWAY = "openim-msggateway";

export async function prepareFaults(
  faults: Fault[],
  endpoints: StackEndpoints,
  stack: LocalStackView | undefined,
): Promise<ArmedFaults> {
  const processes = stack?.processes ?? [];
  const onParts = faults.filter(isProcessFault);
  if (onParts.length > 0 && !stack)
    throw new FaultError(
      `${onParts[0]?.kind}:${onParts[0]?.target} needs the local stack (cutover signals its processes by pid)`,
    );
  const partDescriptions: string[] = [];
  for (const f of onParts) if (stack) partDescriptions.push(await prepareProcessFault(f, stack));
  let tp: RunningToxiproxy | undefined;
  let routed = endpoints;
  const proxyName = "openim-ws";
  if (faults.some((f) => f.kind === "latency" || f.kind === "reset")) {
    tp = await startToxiproxy(await ensureToxiproxy());
    const upstream = new URL(endpoints.openimWs).host;
    const listen = await proxyFor(tp, proxyName, upstream);
    // Every socket through the proxy: the one instance behind it stands for them all.
    routed = { ...endpoints, openimWs: `ws://${listen}`, openimWsInstances: [`ws://${listen}`] };
    for (const f of faults) if (f.kind === "latency") await addLatency(tp, proxyName, f.ms, f.jitterMs);
  }
  const gateway = processes.find((p) => p.name === MSG_GATEWAY);
  if (faults.some((f) => f.kind === "stall")) {
    if (!gateway || !isAlive(gateway))
      throw new FaultError(`a stall needs the local stack's ${MSG_GATEWAY} process, and it is not running`);
    // The stall stops the first message gateway: every direct socket goes to it, so none escapes.
    routed = { ...routed, openimWsInstances: [routed.openimWs] };
  }

  return {
    endpoints: routed,
    describe: [
      ...faults.flatMap((f) =>
        f.kind === "latency"
          ? [`Toxiproxy latency ${f.ms} ms (jitter ${f.jitterMs} ms) on OpenIM ws → client`]
          : f.kind === "reset"
            ? [`Toxiproxy reset_peer at ${f.atMs} ms for ${f.forMs} ms`]
            : f.kind === "stall"
              ? [`SIGSTOP ${MSG_GATEWAY} at ${f.atMs} ms for ${f.forMs} ms`]
              : [],
      ),
      ...partDescriptions,
    ],
    arm(onEvent, offsetMs) {
      const timers: NodeJS.Timeout[] = [];
      const undo: Array<() => void> = [];
      if (stack) for (const f of onParts) undo.push(armProcessFault(f, stack, onEvent, offsetMs));
      for (const f of faults) {
        if (f.kind === "stall" && gateway) {
          let stopped = false;
          const cont = () => {
            if (!stopped) return;
            stopped = false;
            if (isAlive(gateway)) process.kill(gateway.pid, "SIGCONT");
            onEvent(`SIGCONT ${MSG_GATEWAY}`);
          };
          timers.push(
            setTimeout(() => {
              // Signalled by pid after checking its start time: only the process this stack started.
              if (!isAlive(gateway)) return;
              process.kill(gateway.pid, "SIGSTOP");
              stopped = true;
              onEvent(`SIGSTOP ${MSG_GATEWAY} for ${f.forMs} ms`);
              timers.push(setTimeout(cont, f.forMs));
            }, offsetMs + f.atMs),
          );
          undo.push(cont);
        } else if (f.kind === "reset" && tp) {
          const client = tp;
          timers.push(
            setTimeout(() => {
              void (async () => {
                const proxy = await client.client.get(proxyName);
                const toxic = await proxy.addToxic({
                  name: "reset",
                  type: "reset_peer",
                  stream: "downstream",
                  toxicity: 1,
                  attributes: { timeout: 0 },
                });
                onEvent("Toxiproxy reset_peer on");
                timers.push(
                  setTimeout(() => {
                    void toxic.remove().then(() => onEvent("Toxiproxy reset_peer off"));
                  }, f.forMs),
                );
              })().catch((err: unknown) => onEvent(`reset fault failed: ${String(err)}`));
            }, offsetMs + f.atMs),
          );
        }
      }
      return () => {
        for (const t of timers) clearTimeout(t);
        for (const u of undo) u();
      };
    },
    async close() {
      await tp?.stop();
    },
  };
}
