import { spawnSync } from "node:child_process";
import { Command } from "commander";
import pc from "picocolors";
import { checkPrograms, FIXED_BY_DEFAULT, type ProgramCheck } from "../../stack/local/system-programs.js";
import { CutoverError, EXIT } from "../../util/errors.js";

function printChecks(checks: ProgramCheck[]): void {
  for (const c of checks) {
    const mark = c.found
      ? pc.green("✓")
      : c.program.requiredFor === "local stack"
        ? pc.red("✗")
        : pc.yellow("-");
    const version = c.found
      ? pc.dim(c.version ?? "")
      : pc.dim(`missing (apt package ${c.program.aptPackage ?? "?"})`);
    process.stdout.write(
      `${mark} ${c.program.name.padEnd(16)} ${pc.dim(`[${c.program.requiredFor}]`.padEnd(22))} ${version}\n`,
    );
  }
}

function aptInstall(packages: string[]): void {
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const update = spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  if (update.status !== 0) throw new CutoverError("apt-get update failed", EXIT.failures);
  const install = spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages], {
    stdio: "inherit",
    env,
  });
  if (install.status !== 0)
    throw new CutoverError(`apt-get install ${packages.join(" ")} failed`, EXIT.failures);
}

export function doctorCommand(): Command {
  return new Command("doctor")
    .description("check the system programs the local stack needs, with versions")
    .option("--fix", "install what is missing with apt-get (as root; otherwise print the command)")
    .option("--all", "also install the optional programs (--fix alone: the local stack's and Chromium)")
    .action((opts: { fix?: boolean; all?: boolean }) => {
      let checks = checkPrograms();
      printChecks(checks);
      const wanted = (c: ProgramCheck) =>
        !c.found && (opts.all || FIXED_BY_DEFAULT.includes(c.program.requiredFor));
      const missing = checks
        .filter(wanted)
        .flatMap((c) => (c.program.aptPackage ? [c.program.aptPackage] : []));
      if (missing.length > 0 && opts.fix) {
        const command = `apt-get install -y ${missing.join(" ")}`;
        if (process.getuid?.() !== 0) {
          throw new CutoverError(`not root: run \`sudo apt-get update && sudo ${command}\``, EXIT.failures);
        }
        process.stdout.write(`${pc.dim(`$ ${command}`)}\n`);
        aptInstall(missing);
        checks = checkPrograms();
        printChecks(checks);
      }
      const stillMissing = checks.filter((c) => !c.found && c.program.requiredFor === "local stack");
      if (stillMissing.length > 0) {
        throw new CutoverError(
          `missing for the local stack: ${stillMissing.map((c) => c.program.name).join(", ")}${opts.fix ? "" : " — run `cutover doctor --fix`"}`,
          EXIT.failures,
        );
      }
    });
}
