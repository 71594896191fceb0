import { Counter, Histogram, type Registry } from "prom-client";

/**
 * The reference gateway's books, served on GET /metrics beside Node's runtime metrics: what
 * an on-call engineer watches on the one service between clients and OpenIM. Logins (and
 * why they fail), the imToken cache (a mint is an OpenIM call, and a second mint for the same
 * user and platform kicks the first session), OpenIM's webhooks (before-send hooks sit on
 * OpenIM's send path: slow or failing here, every send is), and the REST proxy.
 */
export function gatewayMetrics(register: Registry) {
  const registers = [register];
  return {
    register,
    logins: new Counter({
      name: "gateway_logins_total",
      help: "Logins answered: ok, or why not (bad_request, unauthorized, banned, error: OpenIM or Redis failed)",
      labelNames: ["result"] as const,
      registers,
    }),
    imTokenCache: new Counter({
      name: "gateway_imtoken_cache_total",
      help: "imToken lookups: hit (a valid token cached in Redis) or miss (minted, or waited for another's mint)",
      labelNames: ["result"] as const,
      registers,
    }),
    imTokenMints: new Counter({
      name: "gateway_imtoken_mints_total",
      help: "imTokens minted from OpenIM (user/get_user_token) by this process: ok or error",
      labelNames: ["result"] as const,
      registers,
    }),
    webhookCalls: new Counter({
      name: "gateway_webhook_calls_total",
      help: "OpenIM webhook calls by hook: allow, deny, recorded (after-send), ignored (no policy), error",
      labelNames: ["hook", "result"] as const,
      registers,
    }),
    webhookSeconds: new Histogram({
      name: "gateway_webhook_duration_seconds",
      help: "Time to answer an OpenIM webhook (before-send hooks hold the sender's message until answered)",
      labelNames: ["hook"] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    proxyRequests: new Counter({
      name: "gateway_proxy_requests_total",
      help: "REST proxy requests by OpenIM route (other: not forwarded, or a route OpenIM does not have) and HTTP status answered",
      labelNames: ["route", "status"] as const,
      registers,
    }),
    proxyOpenImErrors: new Counter({
      name: "gateway_proxy_openim_errors_total",
      help: "Proxied answers in which OpenIM refused the call (errCode != 0), by route and errCode",
      labelNames: ["route", "errcode"] as const,
      registers,
    }),
    proxyTokenRetries: new Counter({
      name: "gateway_proxy_token_retries_total",
      help: "Proxied calls retried with a fresh imToken because OpenIM refused the cached one, by errCode (1501, 1506, 1507)",
      labelNames: ["errcode"] as const,
      registers,
    }),
  };
}

export type GatewayMetrics = ReturnType<typeof gatewayMetrics>;

/**
 * The `hook` label: OpenIM's command names (`callbackBeforeSendSingleMsgCommand`, …) as they
 * are, anything else `other`, so whatever reaches the webhook route cannot grow the label set.
 */
export function hookLabel(command: string): string {
  return /^callback[A-Z][A-Za-z]{0,60}Command$/.test(command) ? command : "other";
}
