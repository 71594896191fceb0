import { renderPrometheusConfig, type ScrapeJob } from "../../server-metrics/prometheus-config.js";

/**
 * OpenIM's stock Prometheus ports (config/openim-*.yml `prometheus.ports`, instance 0), all
 * inside the one openim-server container: the official image starts one instance of each.
 */
export const OPENIM_STOCK_METRICS_PORTS: Record<string, number> = {
  "openim-api": 12002,
  "openim-msggateway": 12140,
  "openim-msgtransfer": 12020,
  "openim-push": 12170,
  "openim-rpc-auth": 12200,
  "openim-rpc-conversation": 12220,
  "openim-rpc-friend": 12240,
  "openim-rpc-group": 12260,
  "openim-rpc-msg": 12280,
  "openim-rpc-third": 12300,
  "openim-rpc-user": 12320,
};

/** containers/prometheus.yml: the same jobs as the local stack's, at the compose network's names. */
export function renderDockerPrometheusConf(): string {
  const jobs: ScrapeJob[] = Object.entries(OPENIM_STOCK_METRICS_PORTS).map(([job, port]) => ({
    job,
    targets: [
      {
        address: `openim-server:${port}`,
        ...(job === "openim-msggateway" ? { labels: { index: "0" } } : {}),
      },
    ],
  }));
  jobs.push({ job: "gateway", targets: [{ address: "gateway:8000" }] });
  jobs.push({ job: "prometheus", targets: [{ address: "127.0.0.1:9090" }] });
  return `# Rendered by src/stack/docker/prometheus-conf.ts (npx tsx src/stack/docker/write-prometheus-conf.ts).\n${renderPrometheusConfig({ jobs, scrapeIntervalSec: 2 })}`;
}
