import { Command } from "commander";
import { downLocal } from "../../stack/local/local-stack.js";
import { resolveStackOptions, type StackOptions, withStackOptions } from "../options.js";

export function downCommand(): Command {
  return withStackOptions(new Command("down"))
    .description(
      "stop every process the stack in the run dir started (by pid) and free its ports; logs are kept",
    )
    .action(async (opts: StackOptions) => {
      const { runDir } = await resolveStackOptions(opts);
      const result = await downLocal(runDir);
      if (!result.hadStack) process.stdout.write(`no stack in ${result.runDir}\n`);
      else process.stdout.write(`stopped ${result.stopped} processes (logs kept in ${result.runDir}/logs)\n`);
    });
}
