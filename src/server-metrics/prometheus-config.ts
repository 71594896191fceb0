import { stringify } from "yaml";

/** One Prometheus job: what it scrapes, under the job name the queries and the dashboard use. */
export interface ScrapeJob {
  job: string;
  targets: Array<{ address: string; labels?: Record<string, string> }>;
  metricsPath?: string;
}

export interface PrometheusConfigInput {
  jobs: ScrapeJob[];
  /** Local stacks scrape every second: a run's books are read a few seconds after it ends. */
  scrapeIntervalSec: number;
  /** Folder of file_sd target files (a `cutover load` adds itself there while it runs). */
  fileSdDir?: string;
}

/** The stack's prometheus.yml: the same for the local and the docker stack, only addresses differ. */
export function renderPrometheusConfig(input: PrometheusConfigInput): string {
  const interval = `${input.scrapeIntervalSec}s`;
  const scrapeConfigs: Record<string, unknown>[] = input.jobs.map((job) => ({
    job_name: job.job,
    ...(job.metricsPath ? { metrics_path: job.metricsPath } : {}),
    static_configs: groupByLabels(job.targets),
  }));
  if (input.fileSdDir)
    scrapeConfigs.push({
      job_name: "cutover",
      file_sd_configs: [{ files: [`${input.fileSdDir}/*.json`], refresh_interval: interval }],
    });
  return stringify({
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    scrape_configs: scrapeConfigs,
  });
}

function groupByLabels(targets: ScrapeJob["targets"]) {
  return targets.map((t) => ({ targets: [t.address], ...(t.labels ? { labels: t.labels } : {}) }));
}
