import { parentPort } from "node:worker_threads";
import { errorMessage } from "../util/errors.js";
import { createDriver } from "./driver-factory.js";
import type { MainToWorker, WorkerToMain } from "./messages.js";
import { loadScenario } from "./scenario.js";
import { WorkerRuntime } from "./worker-runtime.js";

/** A worker thread's entry: builds its own driver and scenario from the plan, then does as told. */
if (!parentPort) throw new Error("worker-main.ts runs only as a worker thread");
const port = parentPort;

let runtime: WorkerRuntime | undefined;
let worker = -1;
const emit = (msg: WorkerToMain) => port.postMessage(msg);
const fatal = (err: unknown) => emit({ type: "fatal", worker, message: errorMessage(err) });

port.on("message", (msg: MainToWorker) => {
  void handle(msg).catch(fatal);
});

async function handle(msg: MainToWorker): Promise<void> {
  switch (msg.type) {
    case "init": {
      worker = msg.plan.worker;
      if (!msg.plan.scenarioFile) throw new Error("a worker thread needs the scenario's file");
      const scenario = await loadScenario(msg.plan.scenarioFile);
      const driver = await createDriver(msg.plan.driver, msg.plan.endpoints);
      runtime = new WorkerRuntime(msg.plan, scenario.fn, driver, emit);
      await runtime.setup();
      return;
    }
    case "phase":
      await runtime?.runPhase(msg.phase);
      return;
    case "stop":
      runtime?.stop();
      return;
    case "teardown":
      if (runtime) await runtime.teardown();
      else emit({ type: "closed", worker });
      port.close();
      return;
  }
}
