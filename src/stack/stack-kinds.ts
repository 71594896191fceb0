/**
 * The kinds of stack `--stack` and `stack.kind` take, with what each is. The config schema,
 * the results schemas and every CLI choice list derive from this table; `providers.ts` maps
 * each kind to its provider (the compiler insists on one for every kind).
 */
export const STACK_KIND_DESCRIPTIONS = {
  local: "the embedded stack: the real OpenIM v3.8.3 and its dependencies as processes on this machine",
  docker: "the official OpenIM images with docker compose (needs a Docker engine)",
  external: "a deployment cutover did not start (staging), named in the config's stack.external",
} as const;

export type StackKind = keyof typeof STACK_KIND_DESCRIPTIONS;

export const STACK_KINDS = Object.keys(STACK_KIND_DESCRIPTIONS) as [StackKind, ...StackKind[]];
