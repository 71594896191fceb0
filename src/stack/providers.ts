import type { StackProvider } from "./provider.js";
import type { StackKind } from "./stack-kinds.js";

/**
 * Every stack provider by kind. Each lives in its own folder and is loaded only when used
 * (docker pulls in testcontainers). A new provider is its folder, its kind in stack-kinds.ts
 * and one line here.
 */
export const STACK_PROVIDERS: Record<StackKind, () => Promise<StackProvider>> = {
  local: async () => (await import("./local/provider.js")).localProvider,
  docker: async () => (await import("./docker/provider.js")).dockerProvider,
  external: async () => (await import("./external/provider.js")).externalProvider,
};
