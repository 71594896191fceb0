import { type ChildProcess, spawn } from "node:child_process";
import { nodeEntry } from "../../util/node-entry.js";
import { packageRoot } from "../../util/package-root.js";
import type { HostCommand, HostMessage } from "./host-protocol.js";
import { SdkUser } from "./sdk-user.js";

/** How much of the host's stdout/stderr is kept for an error message. */
const TAIL_BYTES = 4096;

/**
 * A user of the native SDK (the Go core, libopenimsdk.so) in its own Node process
 * (native-host.ts), one per user as the core allows, spoken to over the IPC channel.
 */
export class NativeSdkUser extends SdkUser {
  readonly kind = "native" as const;
  private tail = "";
  private exited: Promise<void>;

  private constructor(
    userID: string,
    private readonly child: ChildProcess,
    /** The SDK package version the host loaded. */
    readonly sdkVersion: string,
    /** From spawn to the host having loaded the SDK, ms. */
    readonly startMs: number,
  ) {
    super(userID);
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
  }

  /** Starts the host process and resolves once it has loaded the SDK. */
  static async start(userID: string, opts: { startTimeoutMs?: number } = {}): Promise<NativeSdkUser> {
    const { command, args } = nodeEntry("src/drivers/official-sdk/native-host.ts");
    const started = performance.now();
    const child = spawn(command, args, {
      cwd: packageRoot(),
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    let tail = "";
    const keep = (chunk: Buffer) => {
      tail = (tail + chunk.toString("utf8")).slice(-TAIL_BYTES);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    const ready = await new Promise<Extract<HostMessage, { kind: "ready" }>>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(
          new Error(
            `official SDK host for ${userID} did not start within ${opts.startTimeoutMs ?? 20_000} ms`,
          ),
        );
      }, opts.startTimeoutMs ?? 20_000);
      const onMessage = (m: unknown) => {
        const msg = m as HostMessage;
        if (msg.kind === "ready" || msg.kind === "fatal") {
          clearTimeout(timer);
          child.off("message", onMessage);
          child.off("exit", onExit);
          if (msg.kind === "ready") resolve(msg);
          else reject(new Error(`official SDK host for ${userID} failed to start: ${msg.message}`));
        }
      };
      const onExit = (code: number | null, signal: string | null) => {
        clearTimeout(timer);
        reject(
          new Error(
            `official SDK host for ${userID} exited (${code ?? signal}) before it was ready:\n${tail}`,
          ),
        );
      };
      child.on("message", onMessage);
      child.once("exit", onExit);
    });
    const user = new NativeSdkUser(userID, child, ready.sdkVersion, performance.now() - started);
    user.tail = tail;
    child.stdout?.off("data", keep);
    child.stderr?.off("data", keep);
    child.stdout?.on("data", (c: Buffer) => user.keep(c));
    child.stderr?.on("data", (c: Buffer) => user.keep(c));
    child.on("message", (m) => user.receive(m as HostMessage));
    child.once("exit", (code, signal) =>
      user.failAll(`SDK host exited (${code ?? signal})${user.tail ? `: ${user.tail.slice(-500)}` : ""}`),
    );
    return user;
  }

  /** The host process's pid (it is this process's child). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  private keep(chunk: Buffer): void {
    this.tail = (this.tail + chunk.toString("utf8")).slice(-TAIL_BYTES);
  }

  protected transmit(cmd: HostCommand): void {
    if (!this.child.connected) {
      this.failAll("SDK host is gone");
      return;
    }
    this.child.send(cmd);
  }

  protected async shutdown(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.child.connected) this.child.send({ id: 0, op: "exit" } satisfies HostCommand);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 3000);
    await this.exited;
    clearTimeout(timer);
  }
}
