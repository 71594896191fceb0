import { z } from "zod";

/** Every field has a default: the local stack needs no config file at all. */
const localStackSchema = z
  .object({
    /** The only OpenIM version the module proxy serves here; the build pins it in stack/openim/go.mod. */
    openimVersion: z.literal("3.8.3").default("3.8.3"),
    kafkaVersion: z
      .string()
      .regex(/^\d+\.\d+\.\d+$/, "a Kafka version such as 3.9.0")
      .default("3.9.0"),
    /** Where built binaries and fetched jars are kept between runs (outside the repo). */
    cacheDir: z.string().min(1).optional(),
    mongo: z
      .object({
        /** false: the stand-in keeps data in memory (lost on restart); true: an H2 file in the run dir. */
        persist: z.boolean().default(false),
      })
      .prefault({}),
    /** First port to try; free ports are probed upward from here. Omit to pick a random base. */
    portBase: z.number().int().min(1024).max(60000).optional(),
    startTimeoutMs: z.number().int().positive().default(120_000),
  })
  .strict();

const externalStackSchema = z
  .object({
    nginx: z.url().optional(),
    gateway: z.url().optional(),
    openimApi: z.url().optional(),
    openimWs: z
      .string()
      .regex(/^wss?:\/\//, "a ws:// or wss:// URL")
      .optional(),
    redis: z
      .string()
      .regex(/^rediss?:\/\//, "a redis:// URL")
      .optional(),
  })
  .strict();

export const configSchema = z
  .object({
    stack: z
      .object({
        kind: z.enum(["local", "docker", "external"]).default("local"),
        runDir: z.string().min(1).default(".cutover"),
        local: localStackSchema.prefault({}),
        external: externalStackSchema.prefault({}),
      })
      .strict()
      .prefault({}),
    openim: z
      .object({
        adminSecret: z.string().min(1).default("openIM123"),
        adminUserID: z
          .string()
          .regex(/^[A-Za-z0-9_]+$/, "letters, digits and underscore only")
          .default("imAdmin"),
        /** Platform used by cutover's own clients unless a case says otherwise (3 = Windows). */
        platformID: z.number().int().min(1).max(9).default(3),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type CutoverConfigInput = z.input<typeof configSchema>;
export type CutoverConfig = z.output<typeof configSchema>;
export type LocalStackConfig = CutoverConfig["stack"]["local"];
