import { createWriteStream } from "node:fs";
import { mkdir, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GetObjectCommand, PutObjectCommand, paginateListObjectsV2, S3Client } from "@aws-sdk/client-s3";
import { z } from "zod";
import { CutoverError, EXIT, errorMessage } from "../util/errors.js";
import { formatS3Url, keyFor, type S3Location } from "./s3-url.js";

/**
 * Where shard results travel when the pods have no shared volume: each pod uploads its results
 * folder to s3://bucket/prefix/shard-<i>/, and the person running the test downloads the prefix
 * and merges it. Any S3-compatible server (MinIO, Ceph, gofakes3) as well as AWS itself.
 */

const s3EnvSchema = z.object({
  AWS_ENDPOINT_URL: z.url().optional(),
  AWS_REGION: z.string().min(1).optional(),
  AWS_DEFAULT_REGION: z.string().min(1).optional(),
  AWS_ACCESS_KEY_ID: z.string().min(1).optional(),
  AWS_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  AWS_SESSION_TOKEN: z.string().min(1).optional(),
});

/**
 * A client configured from the standard AWS variables: keys from them when set, else from the
 * SDK's own chain (a profile, a pod's web identity, instance metadata).
 */
export function s3ClientFromEnv(env: NodeJS.ProcessEnv = process.env): S3Client {
  // The SDK warns on every Node 20 start that its releases from 2027 need Node 22; package.json pins
  // one that runs on Node 20, so the warning would only be noise in every shard's log.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const parsed = s3EnvSchema.safeParse(env);
  if (!parsed.success)
    throw new CutoverError(
      `AWS_ENDPOINT_URL: ${parsed.error.issues[0]?.message ?? "invalid"} (e.g. http://minio:9000)`,
      EXIT.usage,
    );
  const { AWS_ENDPOINT_URL: endpoint, AWS_REGION, AWS_DEFAULT_REGION } = parsed.data;
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = parsed.data;
  const sessionToken = parsed.data.AWS_SESSION_TOKEN;
  return new S3Client({
    ...(accessKeyId && secretAccessKey
      ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } }
      : {}),
    // The SDK refuses to sign without a region; S3-compatible servers ignore it.
    region: AWS_REGION ?? AWS_DEFAULT_REGION ?? "us-east-1",
    ...(endpoint
      ? {
          endpoint,
          // Servers other than AWS seldom resolve bucket.host names: put the bucket in the path.
          forcePathStyle: true,
        }
      : {}),
    // Checksums only where S3 requires them: many compatible servers reject the SDK's default
    // trailing CRC32 (aws-chunked uploads), and results files are small single PUTs.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

async function filesBelow(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

function s3Failure(what: string, err: unknown): CutoverError {
  return new CutoverError(`${what}: ${errorMessage(err) || (err as { name?: string }).name || "failed"}`);
}

/** Every file below `dir`, at the same relative path below the location; returns the keys written. */
export async function uploadDir(client: S3Client, dir: string, to: S3Location): Promise<string[]> {
  let files: string[];
  try {
    files = await filesBelow(dir);
  } catch (err) {
    throw new CutoverError(`cannot read ${dir}: ${errorMessage(err)}`, EXIT.usage);
  }
  if (files.length === 0) throw new CutoverError(`${dir} has no files to upload`, EXIT.usage);
  const keys: string[] = [];
  for (const file of files) {
    const key = keyFor(to.prefix, file);
    try {
      // Whole files in one PUT: a shard's results.json and interval log are megabytes at most.
      await client.send(
        new PutObjectCommand({ Bucket: to.bucket, Key: key, Body: await readFile(path.join(dir, file)) }),
      );
    } catch (err) {
      throw s3Failure(`upload to s3://${to.bucket}/${key}`, err);
    }
    keys.push(key);
  }
  return keys;
}

/** Every object below the location, into `dir` at its path relative to the prefix; returns the files written. */
export async function downloadPrefix(client: S3Client, from: S3Location, dir: string): Promise<string[]> {
  const root = path.resolve(dir);
  const written: string[] = [];
  const listPrefix = from.prefix ? `${from.prefix}/` : "";
  try {
    for await (const page of paginateListObjectsV2({ client }, { Bucket: from.bucket, Prefix: listPrefix })) {
      for (const object of page.Contents ?? []) {
        if (!object.Key || object.Key.endsWith("/")) continue;
        const target = path.resolve(root, object.Key.slice(listPrefix.length));
        // A key such as a/../../x must not write outside the folder asked for.
        if (!target.startsWith(`${root}${path.sep}`))
          throw new CutoverError(`refusing key ${object.Key}: it points outside ${dir}`);
        const got = await client.send(new GetObjectCommand({ Bucket: from.bucket, Key: object.Key }));
        if (!(got.Body instanceof Readable)) throw new CutoverError(`s3 object ${object.Key} has no body`);
        await mkdir(path.dirname(target), { recursive: true });
        await pipeline(got.Body, createWriteStream(target));
        written.push(path.relative(root, target));
      }
    }
  } catch (err) {
    if (err instanceof CutoverError) throw err;
    throw s3Failure(`download from ${formatS3Url(from)}`, err);
  }
  if (written.length === 0) throw new CutoverError(`nothing below ${formatS3Url(from)}`);
  return written.sort();
}
