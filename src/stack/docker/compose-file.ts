import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { packageRoot } from "../../util/package-root.js";

/** containers/compose.yaml in the cutover checkout (or installed package: `docker/` ships with it). */
export function composeFilePath(): string {
  return path.join(packageRoot(), "containers", "compose.yaml");
}

const serviceSchema = z
  .object({
    image: z.string().optional(),
    build: z.unknown().optional(),
    ports: z.array(z.string()).optional(),
    healthcheck: z
      .object({ test: z.union([z.string(), z.array(z.string())]) })
      .passthrough()
      .optional(),
    depends_on: z.unknown().optional(),
  })
  .passthrough();

export const composeFileSchema = z.object({ services: z.record(z.string(), serviceSchema) }).passthrough();

export type ComposeFile = z.infer<typeof composeFileSchema>;

export function readComposeFile(file = composeFilePath()): ComposeFile {
  return composeFileSchema.parse(parse(readFileSync(file, "utf8"), { merge: true }));
}
