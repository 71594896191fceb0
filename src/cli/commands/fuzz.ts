import { Command } from "commander";
import pc from "picocolors";
import { z } from "zod";
import type { FuzzTarget } from "../../fuzz/fuzz-cases.js";
import { type FuzzOutcome, fuzzService } from "../../fuzz/fuzz-run.js";
import { fuzzTargetFromRunDir } from "../../fuzz/fuzz-target.js";
import { CutoverError, EXIT, UsageError } from "../../util/errors.js";
import { resolveStackOptions, withStackOptions } from "../options.js";

/** CI's seed: the README's reliability counts come from it. Another seed reproduces a wider search. */
export const DEFAULT_FUZZ_SEED = 19;
const DEFAULT_REQUESTS = 500;

const argsSchema = z.object({
  target: z.enum(["gateway", "legacy"], { message: "the target is gateway or legacy" }),
  seed: z.coerce
    .number({ message: "--seed must be a whole number" })
    .int("--seed must be a whole number")
    .min(0, "--seed must be ≥ 0")
    .max(2 ** 32 - 1, "--seed must be < 2^32"),
  requests: z.coerce
    .number({ message: "--requests must be a whole number" })
    .int("--requests must be a whole number")
    .min(1, "--requests must be ≥ 1")
    .max(100_000, "--requests must be ≤ 100000"),
});

/** The command's arguments, checked: a bad one is a UsageError (one line, exit 2). */
export function parseFuzzArgs(target: string, opts: { seed?: string; requests?: string }) {
  const parsed = argsSchema.safeParse({
    target,
    seed: opts.seed ?? DEFAULT_FUZZ_SEED,
    requests: opts.requests ?? DEFAULT_REQUESTS,
  });
  if (!parsed.success) throw new UsageError(parsed.error.issues[0]?.message ?? "bad arguments");
  return parsed.data;
}

export function printFuzzOutcome(o: FuzzOutcome, write: (s: string) => void): void {
  const bad = (n: number) => (n > 0 ? pc.red(String(n)) : pc.green(String(n)));
  write(
    `fuzz ${o.target} (seed ${o.seed}): ${o.tried} cases tried · 5xx ${bad(o.fiveXX)} · crashes ${bad(o.crashes)} · hangs ${bad(o.hangs)} · leaks ${bad(o.leaks)} · replays accepted ${bad(o.replays)}\n`,
  );
  write(
    pc.dim(
      `  statuses: ${Object.entries(o.statuses)
        .map(([s, n]) => `${s} ×${n}`)
        .join(", ")}\n`,
    ),
  );
  for (const f of o.findings)
    write(pc.red(`  case ${f.n} [${f.family}] ${f.problem}: ${f.what} → ${f.detail}\n`));
  if (o.findings.length > 0)
    write(`  reproduce: cutover fuzz ${o.target} --seed ${o.seed} --requests ${o.tried}\n`);
}

export function fuzzCommand(): Command {
  return withStackOptions(new Command("fuzz"))
    .description(
      "send seeded hostile requests (malformed JSON, wrong types, huge and nested bodies, bad DH base64, replayed handshakes, forged JWTs, header injection) to the stack's gateway or legacy chat service; exit 1 on a 5xx, a crash, a leaked secret or an accepted replay",
    )
    .argument("<target>", "gateway or legacy")
    .option("--seed <n>", `the generator's seed (default ${DEFAULT_FUZZ_SEED}, CI's)`)
    .option("--requests <n>", `cases to send (default ${DEFAULT_REQUESTS})`)
    .action(async (target: string, opts: { seed?: string; requests?: string; runDir?: string }) => {
      const args = parseFuzzArgs(target, opts);
      const { runDir } = await resolveStackOptions(opts);
      const where = fuzzTargetFromRunDir(args.target as FuzzTarget, runDir);
      const outcome = await fuzzService({
        target: args.target,
        seed: args.seed,
        requests: args.requests,
        ...where,
      });
      printFuzzOutcome(outcome, (s) => process.stdout.write(s));
      if (outcome.fiveXX + outcome.crashes + outcome.hangs + outcome.leaks + outcome.replays > 0)
        throw new CutoverError(
          `fuzzing the ${args.target} found ${outcome.findings.length > 0 ? "problems (above)" : "problems"}`,
          EXIT.failures,
        );
    });
}
