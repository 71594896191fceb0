/**
 * The Kubernetes objects that run one cutover load as N shards: an Indexed Job (pod i is shard
 * i of N, as `cutover load` reads JOB_COMPLETION_INDEX/JOB_COMPLETIONS), a headless Service so
 * shard 0's start barrier has a stable name, the scenario and config as a ConfigMap, and where
 * results go (a ReadWriteMany claim, or an S3-compatible bucket). Plain data in, plain objects
 * out: writing them as YAML and checking them against the API schema happen elsewhere.
 */

/** Any Kubernetes object, as far as this module needs to name it. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

export type AntiAffinity = "required" | "preferred" | "none";

export type ResultsTarget =
  | { kind: "volume"; claimSize: string; storageClass?: string }
  | { kind: "s3"; url: string; secret: string };

export interface RenderInput {
  /** Job, Service and ConfigMap name stem: a DNS label short enough for `<name>-<index>` hostnames. */
  name: string;
  namespace?: string;
  image: string;
  shards: number;
  scenario: { name: string; source: string };
  /** The cutover config the pods read, as YAML (its stack.external says what they load). */
  configYaml: string;
  /** `cutover load` flags passed through to every shard, e.g. ["--rate", "200"]. */
  loadArgs: string[];
  antiAffinity: AntiAffinity;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  results: ResultsTarget;
  barrierPort: number;
  /** The Job is ended by Kubernetes after this long, whatever the pods are doing. */
  deadlineSeconds: number;
}

export interface RenderedManifests {
  /** Applied together: `kubectl apply -f`. */
  job: KubeObject[];
  /** A pod that mounts the results claim so `kubectl cp` can collect it (volume results only). */
  collect?: KubeObject[];
}

const INPUT_DIR = "/etc/cutover";
const RESULTS_DIR = "/results";
const CONFIG_KEY = "cutover.config.yaml";
/** The image runs as node (uid 1000): the volumes must be writable by it. */
const NODE_UID = 1000;

export const names = (input: Pick<RenderInput, "name">) => ({
  job: input.name,
  service: input.name,
  configMap: `${input.name}-input`,
  claim: `${input.name}-results`,
  collectPod: `${input.name}-collect`,
});

/** Pod 0's DNS name through the headless Service: `<job>-0.<service>` (Indexed Job hostnames). */
export function barrierUrl(input: Pick<RenderInput, "name" | "barrierPort">): string {
  const n = names(input);
  return `http://${n.job}-0.${n.service}:${input.barrierPort}`;
}

export function scenarioFileName(input: Pick<RenderInput, "scenario">): string {
  return `${input.scenario.name}.ts`;
}

function metadata(input: RenderInput, name: string, component: string): KubeObject["metadata"] {
  return {
    name,
    ...(input.namespace ? { namespace: input.namespace } : {}),
    labels: podLabels(input, component),
  };
}

function podLabels(input: RenderInput, component: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": "cutover",
    "app.kubernetes.io/instance": input.name,
    "app.kubernetes.io/component": component,
  };
}

/**
 * What each pod runs. The load's flags arrive as "$@" (no quoting to get wrong); the shard index
 * and count come from the environment. With S3 the results are uploaded whatever the load's
 * outcome, and the pod still exits with the load's own code (99: this shard's thresholds crossed).
 */
export function shardScript(results: ResultsTarget): string {
  const lines = ['out="/results/shard-$JOB_COMPLETION_INDEX"', 'cutover load "$@" --out "$out"', "code=$?"];
  if (results.kind === "s3")
    lines.push(
      'if ! cutover k8s upload "$out" "$CUTOVER_RESULTS_URL/shard-$JOB_COMPLETION_INDEX"; then',
      '  echo "shard $JOB_COMPLETION_INDEX: results not uploaded" >&2',
      '  if [ "$code" -eq 0 ]; then code=1; fi',
      "fi",
    );
  lines.push('exit "$code"');
  return lines.join("\n");
}

function affinity(input: RenderInput): Record<string, unknown> | undefined {
  if (input.antiAffinity === "none") return undefined;
  const term = {
    labelSelector: { matchLabels: podLabels(input, "generator") },
    topologyKey: "kubernetes.io/hostname",
  };
  // One generator per node: two shards on one node share its CPU and its network and skew both.
  return {
    podAntiAffinity:
      input.antiAffinity === "required"
        ? { requiredDuringSchedulingIgnoredDuringExecution: [term] }
        : { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] },
  };
}

function resultsVolume(input: RenderInput): Record<string, unknown> {
  return input.results.kind === "volume"
    ? { name: "results", persistentVolumeClaim: { claimName: names(input).claim } }
    : { name: "results", emptyDir: {} };
}

export function renderJob(input: RenderInput): KubeObject {
  const n = names(input);
  const env: { name: string; value: string }[] = [
    // Kubernetes sets JOB_COMPLETION_INDEX in an Indexed Job's pods, but not the count.
    { name: "JOB_COMPLETIONS", value: String(input.shards) },
    { name: "CUTOVER_BARRIER", value: barrierUrl(input) },
    // The image's /app is not writable by its user; the load's run dir lives in /tmp.
    { name: "CUTOVER_RUN_DIR", value: "/tmp/cutover-run" },
    { name: "NO_COLOR", value: "1" },
  ];
  if (input.results.kind === "s3") env.push({ name: "CUTOVER_RESULTS_URL", value: input.results.url });
  const loadArgs = [
    `${INPUT_DIR}/${scenarioFileName(input)}`,
    "--stack",
    "external",
    "--config",
    `${INPUT_DIR}/${CONFIG_KEY}`,
    "--barrier",
    barrierUrl(input),
    ...input.loadArgs,
  ];
  const podAffinity = affinity(input);
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: metadata(input, n.job, "generator"),
    spec: {
      completionMode: "Indexed",
      completions: input.shards,
      // Every shard at once: they start together behind the barrier, or not at all.
      parallelism: input.shards,
      // A shard retried alone would find the barrier long passed: each index runs once, and one
      // shard's failure does not stop the others (their results still merge, or tell why not).
      backoffLimitPerIndex: 0,
      activeDeadlineSeconds: input.deadlineSeconds,
      template: {
        metadata: { labels: podLabels(input, "generator") },
        spec: {
          restartPolicy: "Never",
          // Pod i is <job>-i.<service>: how the other shards find shard 0's barrier.
          subdomain: n.service,
          securityContext: { runAsUser: NODE_UID, runAsGroup: NODE_UID, fsGroup: NODE_UID },
          ...(podAffinity ? { affinity: podAffinity } : {}),
          containers: [
            {
              name: "generator",
              image: input.image,
              imagePullPolicy: "IfNotPresent",
              command: ["/bin/sh", "-c", shardScript(input.results), "cutover-shard"],
              args: loadArgs,
              env,
              ...(input.results.kind === "s3"
                ? { envFrom: [{ secretRef: { name: input.results.secret } }] }
                : {}),
              ports: [{ name: "barrier", containerPort: input.barrierPort }],
              resources: {
                requests: input.resources.requests,
                ...(Object.keys(input.resources.limits).length > 0 ? { limits: input.resources.limits } : {}),
              },
              volumeMounts: [
                { name: "input", mountPath: INPUT_DIR, readOnly: true },
                { name: "results", mountPath: RESULTS_DIR },
              ],
            },
          ],
          volumes: [{ name: "input", configMap: { name: n.configMap } }, resultsVolume(input)],
        },
      },
    },
  };
}

export function renderService(input: RenderInput): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: metadata(input, names(input).service, "generator"),
    spec: {
      // Headless: DNS names each pod rather than balancing across them.
      clusterIP: "None",
      // Shard 0 must be reachable while the others wait for it, before anyone reports ready.
      publishNotReadyAddresses: true,
      selector: podLabels(input, "generator"),
      ports: [{ name: "barrier", port: input.barrierPort, targetPort: "barrier" }],
    },
  };
}

export function renderConfigMap(input: RenderInput): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: metadata(input, names(input).configMap, "input"),
    data: { [scenarioFileName(input)]: input.scenario.source, [CONFIG_KEY]: input.configYaml },
  };
}

export function renderClaim(input: RenderInput & { results: { kind: "volume" } }): KubeObject {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: metadata(input, names(input).claim, "results"),
    spec: {
      // Every shard's pod writes into it at once, from whichever node it landed on.
      accessModes: ["ReadWriteMany"],
      ...(input.results.storageClass ? { storageClassName: input.results.storageClass } : {}),
      resources: { requests: { storage: input.results.claimSize } },
    },
  };
}

/** A pod that only mounts the claim, for `kubectl cp`; it ends by itself after an hour. */
export function renderCollectPod(input: RenderInput): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: metadata(input, names(input).collectPod, "collect"),
    spec: {
      restartPolicy: "Never",
      securityContext: { runAsUser: NODE_UID, runAsGroup: NODE_UID, fsGroup: NODE_UID },
      containers: [
        {
          name: "collect",
          image: input.image,
          imagePullPolicy: "IfNotPresent",
          command: ["sleep", "3600"],
          volumeMounts: [{ name: "results", mountPath: RESULTS_DIR, readOnly: true }],
        },
      ],
      volumes: [{ name: "results", persistentVolumeClaim: { claimName: names(input).claim } }],
    },
  };
}

export function renderManifests(input: RenderInput): RenderedManifests {
  const { results } = input;
  const job = [
    renderConfigMap(input),
    renderService(input),
    ...(results.kind === "volume" ? [renderClaim({ ...input, results })] : []),
    renderJob(input),
  ];
  return results.kind === "volume" ? { job, collect: [renderCollectPod(input)] } : { job };
}
