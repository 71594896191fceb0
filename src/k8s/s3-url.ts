import { UsageError } from "../util/errors.js";

export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing slash; "" for the whole bucket. */
  prefix: string;
}

/** `s3://bucket/some/prefix` → its bucket and prefix; anything else is a usage error. */
export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!match?.[1])
    throw new UsageError(
      `${url}: expected s3://<bucket>/<prefix> (bucket: 3–63 lower-case letters, digits, . or -)`,
    );
  const prefix = (match[2] ?? "").replace(/^\/+|\/+$/g, "");
  if (prefix.split("/").some((part) => part === "." || part === ".."))
    throw new UsageError(`${url}: a prefix may not contain . or .. segments`);
  return { bucket: match[1], prefix };
}

export function formatS3Url(location: S3Location): string {
  return location.prefix ? `s3://${location.bucket}/${location.prefix}` : `s3://${location.bucket}`;
}

/** The key of a file below a prefix, with / as the separator whatever the platform. */
export function keyFor(prefix: string, relativePath: string): string {
  const rel = relativePath.split(/[\\/]+/).join("/");
  return prefix ? `${prefix}/${rel}` : rel;
}
