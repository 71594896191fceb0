import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { packageRoot } from "../../util/package-root.js";

// The gateway image is built from the installed package's folder as much as from a checkout:
// every file its Dockerfile COPYs from the context must be in the npm package, and let through
// by both .dockerignore files (BuildKit reads the Dockerfile's own, the classic builder the root one).

const root = packageRoot();
const read = (file: string) => readFileSync(path.join(root, file), "utf8");
const dockerfile = read("containers/gateway.Dockerfile");

/** The context sources of each COPY without --from; a trailing * marks one a package may lack. */
function copiedFromContext(text: string): string[] {
  return text
    .split("\n")
    .filter((l) => /^COPY\s/.test(l) && !/--from=/.test(l))
    .flatMap((l) => l.trim().split(/\s+/).slice(1, -1));
}

const packSchema = z.array(z.object({ files: z.array(z.object({ path: z.string() })) })).length(1);

describe("the gateway image from the npm package", () => {
  const sources = copiedFromContext(dockerfile);

  test("the Dockerfile COPYs named files, not the whole context", () => {
    expect(sources).toEqual(
      expect.arrayContaining(["package.json", "tsconfig.build.json", "src", "reference", "builds/sdk-shims"]),
    );
    expect(sources).not.toContain(".");
  });

  test("`npm pack --dry-run --json` lists everything the gateway Dockerfile COPYs", {
    timeout: 60_000,
  }, () => {
    // --ignore-scripts: the package's prepare builds dist/, which the image does not take.
    const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    const files = packSchema.parse(JSON.parse(out))[0]!.files.map((f) => f.path);
    const shipped = (source: string) => files.some((f) => f === source || f.startsWith(`${source}/`));
    // npm leaves package-lock.json out of every package; the Dockerfile copies it only when present.
    const required = sources.filter((s) => !s.endsWith("*"));
    expect(required.filter((s) => !shipped(s))).toEqual([]);
    expect(shipped("reference/gateway/src/main.ts")).toBe(true);
    expect(files.some((f) => f.endsWith(".test.ts") && f.startsWith("src/"))).toBe(false);
  });

  test("both .dockerignore files are the same allowlist, and it lets in every COPY source", () => {
    const perDockerfile = read("containers/gateway.Dockerfile.dockerignore");
    expect(read(".dockerignore")).toBe(perDockerfile);
    const lines = perDockerfile.split("\n").filter((l) => l && !l.startsWith("#"));
    expect(lines[0]).toBe("*");
    const allowed = lines.filter((l) => l.startsWith("!")).map((l) => l.slice(1));
    for (const source of sources) expect(allowed, source).toContain(source.replace(/\*$/, ""));
  });

  test("the entrypoint runs from where the image puts it, next to dist/", () => {
    const entry = /^ENTRYPOINT \["node", "([^"]+)"\]$/m.exec(dockerfile)?.[1];
    expect(entry).toBe("containers/gateway-entrypoint.mjs");
    expect(dockerfile).toContain(`COPY containers/gateway-entrypoint.mjs ./${entry}`);
    expect(dockerfile).toContain("COPY --from=build /app/dist ./dist");
  });
});
