import { renderNginxServer } from "../nginx-config.js";

/** Where nginx finds the two upstreams inside the compose network (containers/compose.yaml). */
export const DOCKER_NGINX_ROUTES = {
  listen: "80",
  openimWs: "openim-server:10001",
  gateway: "gateway:8000",
  accessLog: "/var/log/nginx/access.log",
} as const;

/**
 * containers/nginx.conf: the routing the local stack renders, for the compose network. The file
 * is committed (compose mounts it as conf.d/default.conf) and a test holds it equal to this.
 */
export function renderDockerNginxConf(): string {
  return `# Generated from src/stack/nginx-config.ts (the local stack's template) by
# \`npx tsx src/stack/docker/write-nginx-conf.ts\`; a test keeps the two equal. Do not edit.
${renderNginxServer(DOCKER_NGINX_ROUTES)}`;
}
