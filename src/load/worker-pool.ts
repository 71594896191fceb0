import type { ChatDriver } from "../drivers/driver.js";
import { errorMessage } from "../util/errors.js";
import type { MainToWorker, WorkerPlan, WorkerToMain } from "./messages.js";
import { startWorkerThread } from "./module-import.js";
import type { ScenarioFunction } from "./scenario.js";
import { WorkerRuntime } from "./worker-runtime.js";

/** A worker as the engine sees it: post it a message; what it says comes back through `onMessage`. */
export interface WorkerHandle {
  post(msg: MainToWorker): void;
  terminate(): Promise<void>;
}

export function spawnWorker(
  plan: WorkerPlan,
  onMessage: (msg: WorkerToMain) => void,
  onExit: (worker: number, why: string) => void,
): WorkerHandle {
  const w = startWorkerThread(`cutover-load-${plan.worker}`);
  let exited = false;
  w.on("message", onMessage);
  w.on("error", (err) => onExit(plan.worker, err.message));
  w.on("exit", (code) => {
    exited = true;
    if (code !== 0) onExit(plan.worker, `exited with code ${code}`);
  });
  w.postMessage({ type: "init", plan } satisfies MainToWorker);
  return {
    post: (msg) => w.postMessage(msg),
    terminate: async () => {
      if (!exited) await w.terminate();
    },
  };
}

/** The same runtime in this thread: for tests with in-memory drivers, and `--workers 0`. */
export function inlineWorker(
  plan: WorkerPlan,
  fn: ScenarioFunction,
  driver: ChatDriver,
  onMessage: (msg: WorkerToMain) => void,
): WorkerHandle {
  const runtime = new WorkerRuntime(plan, fn, driver, onMessage);
  const fail = (err: unknown) =>
    onMessage({
      type: "fatal",
      worker: plan.worker,
      message: errorMessage(err),
    });
  queueMicrotask(() => void runtime.setup().catch(fail));
  return {
    post(msg) {
      if (msg.type === "phase") void runtime.runPhase(msg.phase).catch(fail);
      else if (msg.type === "stop") runtime.stop();
      else if (msg.type === "teardown") void runtime.teardown().catch(fail);
    },
    terminate: async () => {},
  };
}
