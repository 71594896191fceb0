import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { isAlive, killProcess, type ProcessRecord, respawn } from "../stack/local/processes.js";
import { replaceProcess } from "../stack/local/state.js";
import { UsageError } from "../util/errors.js";

/**
 * Faults on the local stack's own parts, timed from the start of a run's schedule:
 *   kill:msgtransfer@10s          SIGKILL, as a crash; it stays down (`cutover up` heals the stack)
 *   restart:redis@10s[+2s]        SIGKILL, then started again as `up` started it (after 2 s down)
 *   partition:kafka@10s+5s        the kernel drops every packet to and from its port for 5 s
 *   reload:nginx@10s              SIGHUP: nginx re-reads its config and replaces its workers
 * A partition is made with the packet filter (iptables on loopback), not with Toxiproxy: Kafka
 * hands its clients the address it advertises, so a proxy in front of it would be bypassed once
 * metadata is fetched, while dropped packets cut every link to the port, established or new.
 * Every process is signalled by pid after checking its start time: only what this stack started.
 */

export class FaultError extends UsageError {}

export type ProcessFault =
  | { kind: "kill"; target: string; atMs: number }
  | { kind: "restart"; target: string; atMs: number; downMs: number }
  | { kind: "partition"; target: string; atMs: number; forMs: number }
  | { kind: "reload"; target: string; atMs: number };

/** What a process fault needs to know of the local stack (its run dir's state). */
export interface LocalStackView {
  processes: ProcessRecord[];
  ports: Record<string, unknown>;
  stateFile: string;
}

/** `msgtransfer`, `rpc-msg` and `openim-rpc-msg` all name the same process. */
export function resolveTarget(name: string, processes: ProcessRecord[]): ProcessRecord {
  const found =
    processes.find((p) => p.name === name) ??
    processes.find((p) => p.name === `openim-${name}`) ??
    processes.find((p) => p.name === `openim-rpc-${name}`);
  if (!found)
    throw new FaultError(
      `fault target "${name}" is not a process of this stack (${processes.map((p) => p.name).join(", ")})`,
    );
  return found;
}

/** The ports a process listens on that its clients use (what a partition cuts). */
export function clientPorts(processName: string, ports: Record<string, unknown>): number[] {
  const byKey: Record<string, string> = {
    redis: "redis",
    etcd: "etcd",
    kafka: "kafka",
    mongo: "mongo",
    s3: "s3",
    gateway: "gateway",
    nginx: "nginx",
    postgres: "postgres",
    rabbitmq: "rabbitmq",
    "openim-api": "openimApi",
  };
  const found: unknown[] = [];
  const key = byKey[processName];
  if (key) found.push(ports[key]);
  if (processName === "openim-msggateway") found.push(ports.openimWs);
  // Further message-gateway instances (stack.local.msgGateways > 1): their own ws and rpc ports.
  const instance = /^openim-msggateway-(\d+)$/.exec(processName);
  const gateways = Array.isArray(ports.msgGateways) ? (ports.msgGateways as unknown[]) : [];
  const gateway = instance ? gateways[Number(instance[1])] : undefined;
  if (gateway && typeof gateway === "object") found.push(...Object.values(gateway));
  const rpc = ports.rpc as Record<string, unknown> | undefined;
  if (rpc?.[processName] !== undefined) found.push(rpc[processName]);
  return found.filter((p): p is number => typeof p === "number");
}

const run = promisify(execFile);
const MARK = `cutover-fault-${process.pid}`;
const ruleArgs = (port: number, dir: "--dport" | "--sport") => [
  "OUTPUT",
  "-o",
  "lo",
  "-p",
  "tcp",
  dir,
  String(port),
  "-m",
  "comment",
  "--comment",
  MARK,
  "-j",
  "DROP",
];

/** Whether this machine lets cutover change the packet filter (iptables present, run as root). */
export function packetFilterAvailable(): boolean {
  try {
    execFileSync("iptables", ["-w", "-L", "OUTPUT", "-n"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A partition needs the packet filter and the right to change it; said before the run starts. */
export async function requirePacketFilter(): Promise<void> {
  try {
    await run("iptables", ["-w", "-L", "OUTPUT", "-n"]);
  } catch (err) {
    throw new FaultError(
      `a partition fault needs iptables and root (the kernel's packet filter on loopback): ${(err as Error).message.split("\n")[0]}`,
    );
  }
}

async function dropPorts(ports: number[], on: boolean): Promise<void> {
  for (const port of ports)
    for (const dir of ["--dport", "--sport"] as const)
      await run("iptables", ["-w", on ? "-I" : "-D", ...ruleArgs(port, dir)]).catch((err: unknown) => {
        if (on) throw err; // a rule already gone is what undo wants
      });
}

/** Checks what can be checked before the run: the target exists, has a port to cut, the filter works. */
export async function prepareProcessFault(f: ProcessFault, view: LocalStackView): Promise<string> {
  const target = resolveTarget(f.target, view.processes);
  if (!isAlive(target)) throw new FaultError(`fault target ${target.name} is not running`);
  switch (f.kind) {
    case "kill":
      return `SIGKILL ${target.name} at ${f.atMs} ms (stays down)`;
    case "restart":
      if (!target.spawn)
        throw new FaultError(
          `${target.name} was started before cutover recorded how: restart the stack with \`cutover up\``,
        );
      return `SIGKILL ${target.name} at ${f.atMs} ms, started again after ${f.downMs} ms`;
    case "reload":
      if (target.name !== "nginx")
        throw new FaultError(`reload: only nginx reloads its config (got ${target.name})`);
      return `SIGHUP nginx at ${f.atMs} ms (config reload)`;
    case "partition": {
      const ports = clientPorts(target.name, view.ports);
      if (ports.length === 0)
        throw new FaultError(`${target.name} listens on no port its clients use: kill or restart it instead`);
      await requirePacketFilter();
      return `partition of ${target.name} (port ${ports.join(", ")}) at ${f.atMs} ms for ${f.forMs} ms`;
    }
  }
}

/** Arms one fault `offsetMs` from now; returns its undo (a partition is always lifted). */
export function armProcessFault(
  f: ProcessFault,
  view: LocalStackView,
  onEvent: (what: string) => void,
  offsetMs: number,
): () => void {
  const timers: NodeJS.Timeout[] = [];
  const later = (ms: number, work: () => Promise<void> | void) =>
    timers.push(
      setTimeout(
        () => {
          Promise.resolve()
            .then(work)
            .catch((err: unknown) => onEvent(`${f.kind}:${f.target} failed: ${(err as Error).message}`));
        },
        Math.max(0, ms),
      ),
    );
  const target = resolveTarget(f.target, view.processes);
  let lift: (() => Promise<void>) | undefined;
  let bringBack: (() => void) | undefined;
  later(offsetMs + f.atMs, async () => {
    switch (f.kind) {
      case "kill":
        await killProcess(target);
        onEvent(`SIGKILL ${target.name}`);
        return;
      case "restart":
        await killProcess(target);
        onEvent(`SIGKILL ${target.name}`);
        bringBack = () => {
          bringBack = undefined;
          const next = respawn(target);
          replaceProcess(view.stateFile, next);
          onEvent(`${target.name} started again (pid ${next.pid})`);
        };
        later(f.downMs, () => bringBack?.());
        return;
      case "reload":
        if (isAlive(target)) process.kill(target.pid, "SIGHUP");
        onEvent("SIGHUP nginx");
        return;
      case "partition": {
        const ports = clientPorts(target.name, view.ports);
        // Even a run that dies (Ctrl-C, an exception) must not leave the port cut.
        const liftNow = () => {
          for (const port of ports)
            for (const dir of ["--dport", "--sport"] as const)
              try {
                execFileSync("iptables", ["-w", "-D", ...ruleArgs(port, dir)], { stdio: "ignore" });
              } catch {
                // already lifted
              }
        };
        process.once("exit", liftNow);
        await dropPorts(ports, true);
        lift = async () => {
          lift = undefined;
          process.off("exit", liftNow);
          await dropPorts(ports, false);
          onEvent(`partition of ${target.name} lifted`);
        };
        onEvent(`partition of ${target.name} (port ${ports.join(", ")})`);
        later(f.forMs, () => lift?.());
        return;
      }
    }
  });
  // A run that ends first still lifts the partition and brings a restarting process back.
  return () => {
    for (const t of timers) clearTimeout(t);
    void lift?.();
    bringBack?.();
  };
}
