import { Command, Option } from "commander";
import { downStack } from "../../stack/acquire.js";
import { STACK_KINDS } from "../../stack/stack-kinds.js";
import { resolveStackOptions, type StackOptions, withStackOptions } from "../options.js";

export function downCommand(): Command {
  return withStackOptions(new Command("down"))
    .description(
      "stop what the stack in the run dir started (local: every process, by pid; docker: the compose project); logs are kept",
    )
    .addOption(
      new Option(
        "--stack <kind>",
        "which stack (default: the one up in the run dir, else the config's)",
      ).choices(STACK_KINDS),
    )
    .action(async (opts: StackOptions) => {
      const { config, runDir } = await resolveStackOptions(opts);
      process.stdout.write(`${await downStack(config, runDir)}\n`);
    });
}
