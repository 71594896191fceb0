import { Command, CommanderError } from "commander";
import pc from "picocolors";
import { CutoverError, EXIT, errorMessage } from "../util/errors.js";
import { compareCommand } from "./commands/compare.js";
import { conformanceCommand } from "./commands/conformance.js";
import { doctorCommand } from "./commands/doctor.js";
import { downCommand } from "./commands/down.js";
import { reportCommand } from "./commands/report.js";
import { runCommand } from "./commands/run.js";
import { statusCommand } from "./commands/status.js";
import { upCommand } from "./commands/up.js";

const program = new Command("cutover")
  .description(
    "Load-testing and conformance harness for chat stacks moving onto OpenIM.\n" +
      "Stands the stack up (the real OpenIM server, gateway, Redis, nginx), checks it, and measures it.",
  )
  .version("0.1.0")
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride()
  .addHelpText(
    "after",
    `
Examples:
  $ cutover run                   the main job: stack up, every check, a message end to end, results JSON
  $ cutover doctor --fix          install what the local stack needs (apt-get, as root)
  $ cutover up                    start the local stack in .cutover/ and print its endpoints
  $ cutover up --json             the same, as one JSON object on stdout
  $ cutover status                check every component; exit 0 only when all are healthy
  $ cutover down                  stop everything the stack started

Exit codes: 0 ok, 1 failures, 2 usage/config error, 3 stack failed to start, 99 thresholds crossed.`,
  );

program.addCommand(runCommand());
program.addCommand(doctorCommand());
program.addCommand(upCommand());
program.addCommand(statusCommand());
program.addCommand(downCommand());
program.addCommand((await import("./commands/load.js")).loadCommand());
program.addCommand((await import("./commands/check-driver.js")).checkDriverCommand());
program.addCommand(conformanceCommand());
program.addCommand(compareCommand());
program.addCommand(reportCommand());
program.addCommand((await import("./commands/import.js")).importCommand());
program.addCommand((await import("./commands/fuzz.js")).fuzzCommand());
program.addCommand((await import("./commands/resilience.js")).resilienceCommand());
program.addCommand((await import("./commands/k8s.js")).k8sCommand());
program.addCommand((await import("./commands/merge.js")).mergeCommand());
// Settings are not inherited by commands built on their own: usage errors must exit 2 everywhere.
for (const command of program.commands)
  command.exitOverride().showHelpAfterError("(run with --help for usage)");

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version exit through here with code 0; usage errors were already printed.
    process.exitCode = err.exitCode === 0 ? 0 : EXIT.usage;
  } else if (err instanceof CutoverError) {
    process.stderr.write(`${pc.red("cutover:")} ${err.message}\n`);
    if (err.details) process.stderr.write(`${pc.dim(err.details)}\n`);
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`${pc.red("cutover:")} ${errorMessage(err)}\n`);
    process.exitCode = EXIT.failures;
  }
}
