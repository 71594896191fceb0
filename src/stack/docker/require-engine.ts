import { CutoverError, EXIT, UsageError } from "../../util/errors.js";
import { type ComposeCli, type DockerEngine, findComposeCli, findDockerEngine } from "./docker-engine.js";

type FoundEngine = Extract<DockerEngine, { ok: true }>;

/** The one line a user sees when there is no engine; nothing from testcontainers is even loaded. */
export async function requireDockerEngine(env: NodeJS.ProcessEnv = process.env): Promise<FoundEngine> {
  const engine = await findDockerEngine(env);
  if (!engine.ok) {
    throw new CutoverError(
      `--stack docker needs a Docker engine and none answers here (${engine.reason}): start Docker or set DOCKER_HOST, or use --stack local`,
      EXIT.stack,
    );
  }
  return engine;
}

/**
 * A remote engine (tcp:// to another host, ssh://) cannot run this stack as cutover drives it:
 * every port is published on the engine host's 127.0.0.1, which cutover cannot reach from here,
 * and the bind mounts (nginx.conf, mongo-init.js) name files on this machine, which the remote
 * engine would look for on its own disk. Refused up front, rather than failing minutes later.
 */
export function refuseRemoteEngine(engine: FoundEngine): FoundEngine {
  if (engine.local) return engine;
  throw new UsageError(
    `--stack docker needs a Docker engine on this machine, and ${engine.dockerHost} (${engine.address.source}) is remote: its ports would be published on that host's loopback and its bind mounts would name files on this one; run cutover on the engine's host, or start the stack there and use --stack external`,
  );
}

export function requireComposeCli(): ComposeCli {
  const cli = findComposeCli();
  if (!cli) {
    throw new CutoverError(
      "--stack docker needs Docker Compose: neither `docker compose` nor `docker-compose` runs here",
      EXIT.stack,
    );
  }
  return cli;
}
