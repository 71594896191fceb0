import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { packageRoot } from "../util/package-root.js";
import { renderManifests } from "./render-manifests.js";

// The generator image is built from the installed package's folder as much as from a checkout,
// as the gateway's is: every file its Dockerfile COPYs from the context must be in the npm
// package and let through by both .dockerignore files (BuildKit reads the Dockerfile's own, the
// classic builder only the root one, which is the gateway's allowlist).

const root = packageRoot();
const read = (file: string) => readFileSync(path.join(root, file), "utf8");
const dockerfile = read("containers/generator.Dockerfile");

/** The context sources of each COPY without --from; a trailing * marks one a package may lack. */
function copiedFromContext(text: string): string[] {
  return text
    .split("\n")
    .filter((l) => /^COPY\s/.test(l) && !/--from=/.test(l))
    .flatMap((l) => l.trim().split(/\s+/).slice(1, -1));
}

function allowlist(text: string): string[] {
  const lines = text.split("\n").filter((l) => l && !l.startsWith("#"));
  expect(lines[0]).toBe("*");
  return lines.filter((l) => l.startsWith("!")).map((l) => l.slice(1));
}

const packSchema = z.array(z.object({ files: z.array(z.object({ path: z.string() })) })).length(1);

describe("the generator image from the npm package", () => {
  const sources = copiedFromContext(dockerfile);

  test("the Dockerfile COPYs named files, not the whole context", () => {
    expect(sources).toEqual(
      expect.arrayContaining(["package.json", "tsconfig.build.json", "src", "builds/sdk-shims"]),
    );
    expect(sources).not.toContain(".");
  });

  test("`npm pack --dry-run --json` lists everything the generator Dockerfile COPYs", {
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
    const required = sources.filter((s) => !s.endsWith("*"));
    expect(required.filter((s) => !shipped(s))).toEqual([]);
    // Read from src/ at run time by the HTML report, which the final stage copies.
    expect(shipped("src/report/templates/report.html.hbs")).toBe(true);
    expect(shipped("containers/generator.Dockerfile")).toBe(true);
  });

  test("its own .dockerignore and the root one (the classic builder's) both let in every COPY source", () => {
    const own = allowlist(read("containers/generator.Dockerfile.dockerignore"));
    const classic = allowlist(read(".dockerignore"));
    for (const source of sources) {
      expect(own, source).toContain(source.replace(/\*$/, ""));
      expect(classic, source).toContain(source.replace(/\*$/, ""));
    }
  });

  test("it gives the rendered pods what they call: `cutover` on the PATH, as uid 1000", () => {
    expect(dockerfile).toMatch(/> \/usr\/local\/bin\/cutover/);
    expect(dockerfile).toContain('exec node /app/dist/src/cli/main.js "$@"');
    expect(dockerfile).toContain("COPY --from=build /app/dist ./dist");
    // The node images' `node` user is uid 1000: the pods run as it and own their volumes through fsGroup.
    expect(dockerfile).toMatch(/^FROM node:[\d.]+-alpine$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    const { job } = renderManifests({
      name: "cutover-direct-chat",
      image: "cutover-generator:0.1.0",
      shards: 2,
      scenario: { name: "direct-chat", source: "" },
      configYaml: "",
      loadArgs: [],
      antiAffinity: "none",
      resources: { requests: { cpu: "1" }, limits: {} },
      results: { kind: "volume", claimSize: "1Gi" },
      barrierPort: 7070,
      deadlineSeconds: 600,
    });
    const pod = (
      job.find((o) => o.kind === "Job") as unknown as {
        spec: { template: { spec: Record<string, unknown> } };
      }
    ).spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsUser: 1000, fsGroup: 1000 });
  });
});
