import { Command, Option } from "commander";
import pc from "picocolors";
import { upStack } from "../../stack/acquire.js";
import type { StackEndpoints } from "../../stack/endpoints.js";
import { STACK_KINDS } from "../../stack/stack-kinds.js";
import { formatSeconds } from "../../util/time.js";
import { resolveStackOptions, type StackOptions, withStackOptions } from "../options.js";
import { progressPrinter } from "../progress-printer.js";

export function printEndpoints(endpoints: StackEndpoints, out: NodeJS.WriteStream = process.stdout): void {
  const rows: Array<[string, string | undefined]> = [
    ["nginx", endpoints.nginx],
    ["WebSocket (via nginx)", endpoints.wsURL],
    ["gateway", endpoints.gateway],
    ["OpenIM API (internal)", endpoints.openimApi],
    ["OpenIM WS (direct)", endpoints.openimWs],
    ["Redis", endpoints.redis],
    ["Kafka", endpoints.kafka],
    ["etcd", endpoints.etcd],
    ["legacy REST (nginx)", endpoints.legacy?.baseURL],
    ["legacy WS (nginx)", endpoints.legacy?.wsURL],
  ];
  for (const [name, value] of rows) if (value) out.write(`  ${name.padEnd(22)} ${value}\n`);
  const standIns = endpoints.parts.filter((p) => p.note);
  for (const part of standIns) out.write(`  ${pc.yellow("note")} ${part.what}: ${part.note}\n`);
}

export function upCommand(): Command {
  return withStackOptions(new Command("up"))
    .description(
      "start a stack (default: the local stack with the real OpenIM server) and print its endpoints",
    )
    .addOption(new Option("--stack <kind>", "which stack to start").choices(STACK_KINDS))
    .option("--json", "print exactly one JSON object with the endpoints on stdout")
    .option(
      "--no-legacy",
      "leave out the legacy pipeline (Postgres, RabbitMQ, legacy services) of the local stack",
    )
    .action(async (opts: StackOptions & { legacy?: boolean }) => {
      const { config, runDir } = await resolveStackOptions(opts);
      if (opts.legacy === false) config.stack.local.legacy = false;
      const result = await upStack(config, runDir, progressPrinter());
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(result.endpoints)}\n`);
        return;
      }
      if (result.kind === "already-up") {
        process.stdout.write(
          `a stack is already up in ${runDir} (cutover down --run-dir ${runDir} stops it)\n`,
        );
      } else if (result.kind === "external") {
        process.stdout.write(
          `${pc.green("external stack answers")} at ${result.endpoints.nginx} (not started by cutover; nothing to stop)\n`,
        );
      } else {
        process.stdout.write(`${pc.green("stack up")} in ${formatSeconds(result.ms)} (run dir ${runDir})\n`);
      }
      printEndpoints(result.endpoints);
    });
}
