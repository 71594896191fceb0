import { KUBERNETES_VERSION } from "./kubeconform.js";
import { names, type RenderInput } from "./render-manifests.js";

export const MANIFESTS_FILE = "manifests.yaml";
export const COLLECT_FILE = "collect-results.yaml";
export const NEXT_STEPS_FILE = "NEXT-STEPS.md";

/**
 * The commands that take rendered manifests to one merged answer, written beside them: what to
 * apply, how to wait, where the shards' results are, and that the merge is what passes or fails.
 */
export function nextSteps(input: RenderInput, renderCommand: string): string {
  const n = names(input);
  const ns = input.namespace ? ` -n ${input.namespace}` : "";
  const podRef = input.namespace ? `${input.namespace}/${n.collectPod}` : n.collectPod;
  const collect =
    input.results.kind === "volume"
      ? [
          `kubectl apply${ns} -f ${COLLECT_FILE}`,
          `kubectl wait${ns} --for=condition=ready pod/${n.collectPod} --timeout=5m`,
          `kubectl cp ${podRef}:/results ./shards`,
          `kubectl delete${ns} -f ${COLLECT_FILE}`,
        ]
      : [`cutover k8s download ${input.results.url} ./shards`];
  const secret =
    input.results.kind === "s3"
      ? [
          "",
          "The pods upload with the bucket's credentials from a Secret (your endpoint, keys and region;",
          "leave AWS_ENDPOINT_URL out for AWS itself); the download below reads the same variables from",
          "your shell:",
          "",
          "```sh",
          `kubectl create secret generic ${input.results.secret}${ns} \\`,
          "  --from-literal=AWS_ENDPOINT_URL=https://s3.example.internal \\",
          "  --from-literal=AWS_ACCESS_KEY_ID=… --from-literal=AWS_SECRET_ACCESS_KEY=… \\",
          "  --from-literal=AWS_REGION=us-east-1",
          "```",
        ]
      : [];
  return [
    `# ${input.scenario.name} as ${input.shards} shards on Kubernetes`,
    "",
    `Rendered by \`${renderCommand}\`.`,
    "",
    `- \`${MANIFESTS_FILE}\`: the scenario and config (ConfigMap ${n.configMap}), the headless Service`,
    `  ${n.service} that names shard 0's start barrier, ${input.results.kind === "volume" ? `the results claim ${n.claim} (ReadWriteMany), ` : ""}and the Indexed Job ${n.job}`,
    `  (${input.shards} pods at once; pod i is shard i/${input.shards}).`,
    ...(input.results.kind === "volume"
      ? [`- \`${COLLECT_FILE}\`: a pod that mounts the results claim, to copy the shards out.`]
      : [`- Results: each shard uploads its folder to ${input.results.url}/shard-<i>/.`]),
    "",
    "Kubernetes 1.29 or later (the Job's backoffLimitPerIndex); a test checks the objects against the",
    `v${KUBERNETES_VERSION} API schema.`,
    "",
    `The image ${input.image} is built from the cutover checkout (or its installed package folder)`,
    "and pushed where the cluster pulls from:",
    "",
    "```sh",
    `docker build -f containers/generator.Dockerfile -t ${input.image} .`,
    "```",
    ...secret,
    "",
    "Then:",
    "",
    "```sh",
    `kubectl apply${ns} -f ${MANIFESTS_FILE}`,
    `kubectl wait${ns} --for=condition=complete job/${n.job} --timeout=${input.deadlineSeconds}s`,
    ...collect,
    "cutover merge ./shards --out ./merged   # the thresholds, on all shards together: exit 99 if crossed",
    "cutover report ./merged/results.json",
    `kubectl delete${ns} -f ${MANIFESTS_FILE}`,
    "```",
    "",
    "A shard that exits non-zero (99: its own share crossed the thresholds; 2 or 3: it could not",
    "run) leaves the Job Failed rather than complete, after every other shard has finished: wait for",
    `\`--for=condition=failed\` then, see which with \`kubectl get job/${n.job}${ns} -o jsonpath='{.status.failedIndexes}'\``,
    `and why with \`kubectl logs${ns} -l app.kubernetes.io/instance=${input.name} --prefix\`. Its results are`,
    "collected all the same; the merge decides the verdict.",
    "",
  ].join("\n");
}
